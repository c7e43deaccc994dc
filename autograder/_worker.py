"""The child process that runs a submission's code: `python -I _worker.py REQ_FD REP_FD LIMITS_JSON`.

It is started by `autograder.runner.Submission` and talks to it over a pipe pair in
length-prefixed frames (8-byte big-endian length, then a 4-byte header length, a JSON
header and an optional .npz blob holding the arrays). Only plain data crosses the pipe,
never pickles. The parent enforces every time limit itself; the alarm here only makes
the message friendlier when the submission's code is still interruptible.

This file is also imported by the grader (as `autograder._worker`) for the codec below,
so it must stay free of side effects at import and import nothing from `autograder`.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

MAX_FRAME = 256 * 1024 * 1024  # bytes; the parent refuses larger replies
MAX_DEPTH = 50
HANDLE_STRIDE = 10**9  # handle ids are generation * HANDLE_STRIDE + n


class Unencodable(TypeError):
    """Raised by `encode` for an object that is not plain data."""


# ---------------------------------------------------------------- codec (both sides)


def encode(obj, arrays: list, to_handle=None, depth: int = 0):
    """Turn plain data into JSON-able values, appending numpy arrays to `arrays`.

    to_handle(obj) -> dict is called for objects that are not plain data (the worker keeps
    them and sends a handle); without it such objects raise Unencodable.
    """
    import numpy as np

    if depth > MAX_DEPTH:
        raise Unencodable("nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        if obj.dtype.kind in "biufc":
            arrays.append(np.asarray(obj))
            return {"__np__": len(arrays) - 1}
    elif isinstance(obj, int):
        return obj
    elif isinstance(obj, float):
        return {"__float__": repr(obj)}  # keeps nan/inf exact and JSON-strict
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biufc" and obj.dtype.fields is None:
            arrays.append(np.ascontiguousarray(obj))
            return {"__nd__": len(arrays) - 1}
    elif type(obj) in (list, tuple):
        items = [encode(v, arrays, to_handle, depth + 1) for v in obj]
        return items if type(obj) is list else {"__tuple__": items}
    elif type(obj) is dict and all(type(k) is str for k in obj):
        return {"__dict__": [[k, encode(v, arrays, to_handle, depth + 1)] for k, v in obj.items()]}
    elif type(obj).__name__ in ("Handle", "RngSpec") and hasattr(obj, "__dataclass_fields__"):
        if type(obj).__name__ == "Handle":
            return {"__handle__": int(obj.id), "type": str(obj.type_name)}
        return {"__rng__": int(obj.seed)}
    if to_handle is None:
        raise Unencodable(f"cannot send a {type(obj).__name__}")
    return to_handle(obj)


def decode(obj, arrays: list, make_handle, make_rng, depth: int = 0):
    """Inverse of `encode`; validates every tag, so malformed data raises ValueError."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, arrays, make_handle, make_rng, depth + 1) for v in obj]
    if not isinstance(obj, dict) or len(obj) not in (1, 2):
        raise ValueError(f"unexpected {type(obj).__name__} in the data")
    (tag, val), *rest = obj.items()
    if tag == "__nd__" or tag == "__np__":
        arr = arrays[_index(val, len(arrays))]
        return arr if tag == "__nd__" else arr[()]
    if tag == "__float__" and isinstance(val, str) and len(val) < 40:
        return float(val)
    if tag == "__tuple__" and isinstance(val, list):
        return tuple(decode(v, arrays, make_handle, make_rng, depth + 1) for v in val)
    if tag == "__dict__" and isinstance(val, list):
        out = {}
        for pair in val:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError("malformed dict")
            out[pair[0]] = decode(pair[1], arrays, make_handle, make_rng, depth + 1)
        return out
    if tag == "__handle__" and type(val) is int:
        type_name = rest[0][1] if rest and rest[0][0] == "type" and isinstance(rest[0][1], str) else ""
        return make_handle(val, type_name[:100])
    if tag == "__rng__" and type(val) is int:
        return make_rng(val)
    raise ValueError(f"unknown tag {tag!r}")


def _index(val, n: int) -> int:
    if type(val) is not int or not 0 <= val < n:
        raise ValueError("bad array index")
    return val


def pack(header: dict, arrays: list) -> bytes:
    """One frame's payload: header length, JSON header, then an uncompressed .npz of the arrays."""
    import numpy as np

    head = json.dumps(header, allow_nan=False).encode()
    blob = b""
    if arrays:
        buf = io.BytesIO()
        np.savez(buf, *arrays)
        blob = buf.getvalue()
    return struct.pack(">I", len(head)) + head + blob


def unpack(payload: bytes, max_bytes: int = MAX_FRAME) -> tuple[dict, list]:
    """Parse a payload from `pack` without trusting it (no pickles, bounded sizes)."""
    import numpy as np

    if len(payload) < 4:
        raise ValueError("short frame")
    (hlen,) = struct.unpack(">I", payload[:4])
    if hlen > len(payload) - 4:
        raise ValueError("bad header length")
    header = json.loads(payload[4 : 4 + hlen])
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    blob = payload[4 + hlen :]
    arrays = []
    if blob:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > max_bytes or len(infos) > 100_000:
                raise ValueError("arrays too large")
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    return header, arrays


# ---------------------------------------------------------------- the worker itself


def _read_exact(fd: int, n: int) -> bytes:
    import os

    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _CappedWriter(io.TextIOBase):
    """sys.stdout/sys.stderr during a cell or call: keeps the first `cap` characters, counts the rest."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.kept, self.total = cap, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        self.total += len(s)
        if self.kept < self.cap:
            piece = s[: self.cap - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.total > self.kept:
            out += f"\n... [output truncated: {self.total} characters printed, the first {self.kept} kept]"
        return out


class _Timeout(BaseException):
    pass


def _main(argv: list[str]) -> None:  # noqa: C901 (one flat loop reads best here)
    import os
    import resource

    req_fd, rep_fd = int(argv[1]), int(argv[2])
    limits = json.loads(argv[3])
    mem = int(limits["memory_mb"]) * 1024 * 1024
    for res, val in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, int(limits["cpu_s"])),
        (resource.RLIMIT_FSIZE, int(limits["file_bytes"])),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(res, (val, val))

    import ast
    import builtins
    import signal
    import sys
    import time
    import types

    import numpy as np

    for module in limits.get("preload", []):  # before the audit hook: torch loads its libraries with ctypes
        __import__(module)

    blocked = frozenset(limits["blocked"])
    sandbox = os.path.realpath(limits["sandbox"])
    no_read = tuple(os.path.realpath(p) for p in limits["no_read"])
    blocked_msg = (
        "{name} cannot be imported in a NumPy assignment: write the NumPy code yourself "
        "(the grader blocks " + ", ".join(sorted(blocked - {"autograder"})) + ", and the grader itself)"
    )
    state = {"blocked_hit": ""}

    class BlockedImportError(ImportError):
        pass

    def refuse_import(name: str):
        top = name.partition(".")[0]
        if top in blocked:
            state["blocked_hit"] = top
            raise BlockedImportError(blocked_msg.format(name=top), name=top)

    class Blocker:
        """First line of defence: a clear ImportError before any finder looks for the module."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            refuse_import(name)
            return None

    forbidden_events = frozenset({
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "pty.spawn", "resource.setrlimit", "resource.prlimit",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook",
        "os.kill", "os.killpg", "signal.pthread_kill", "ctypes.dlopen", "ctypes.dlsym",
        "ctypes.cdata", "ctypes.addressof", "ctypes.call_function", "ctypes.seh_exception",
        "os.putenv", "os.unsetenv", "socket.connect", "socket.bind", "shutil.rmtree",
        "sys.settrace", "sys.setprofile", "sys._current_frames", "sys.monitoring.register_callback",
    })
    path_events = {  # event -> positions of path arguments that must stay inside the sandbox
        "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.truncate": (0,),
        "os.chmod": (0,), "os.chown": (0,), "os.link": (0, 1), "os.symlink": (0, 1),
        "os.mkdir": (0,), "os.utime": (0,), "os.chflags": (0,), "os.setxattr": (0,),
        "os.removexattr": (0,),
    }
    path_events = tuple(path_events.items())

    # Everything the hook uses is bound as a default argument (immutable, and changing a
    # function's defaults or code is itself an audited event that the hook refuses), so
    # submission code cannot switch it off by rebinding globals or closure cells.
    def audit(
        event, args, *,
        _blocked=blocked, _msg=blocked_msg, _state=state, _Err=BlockedImportError,
        _sandbox=sandbox, _no_read=no_read, _forbidden=forbidden_events, _paths=path_events,
        _realpath=os.path.realpath, _fsdecode=os.fsdecode, _sep=os.sep, _pid=os.getpid(),
        _wflags=os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC,
        _me=__file__ if "__file__" in globals() else "", _isinstance=isinstance, _str=str,
        _int=int, _any=any, _len=len, _FT=types.FunctionType, _PE=PermissionError,
    ):
        def inside(path, roots):
            try:
                real = _realpath(_fsdecode(path))
            except Exception:
                return False
            return _any(real == r or real.startswith(r + _sep) for r in roots)

        if event == "import":
            top = _str(args[0]).partition(".")[0]
            if top in _blocked:
                _state["blocked_hit"] = top
                raise _Err(_msg.format(name=top), name=top)
        elif event == "open":
            path, mode, flags = args
            if _isinstance(path, _int):
                return
            if _no_read and inside(path, _no_read):
                raise _PE(f"the submission may not read the grader's files ({_fsdecode(path)})")
            writing = (mode is not None and _any(c in _str(mode) for c in "wax+")) or (
                mode is None and _isinstance(flags, _int) and flags & _wflags
            )
            if writing and not inside(path, (_sandbox,)):
                raise _PE(f"the submission may only write files in its working folder, not {_fsdecode(path)}")
        elif event in ("os.listdir", "os.scandir"):
            if args and args[0] is not None and not _isinstance(args[0], _int) and _no_read and inside(args[0], _no_read):
                raise _PE("the submission may not list the grader's files")
        elif event in _forbidden or event.startswith("os.exec") or event.startswith("os.spawn"):
            if event in ("os.kill", "os.killpg") and args and args[0] == _pid:
                return
            raise _PE(f"{event} is not allowed in a graded submission")
        elif event == "object.__setattr__":
            if _isinstance(args[0], _FT) and args[0].__code__.co_filename == _me:
                raise _PE("the grader's worker cannot be changed")
        else:
            for name, positions in _paths:
                if event == name:
                    for i in positions:
                        if i < _len(args) and not _isinstance(args[i], _int) and not inside(args[i], (_sandbox,)):
                            raise _PE(f"{event} outside the submission's working folder is not allowed")

    sys.meta_path.insert(0, Blocker)

    # The submission's namespace is a fresh __main__, as in a notebook kernel.
    main_mod = types.ModuleType("__main__")
    main_mod.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main_mod
    ns = main_mod.__dict__
    kept: dict[int, object] = {}
    next_handle = [int(limits["handle_base"])]
    blocked_aliases: dict[str, str] = {}
    cap = int(limits["max_output_bytes"])
    real_stdout, real_stderr = sys.stdout, sys.stderr

    def on_alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, on_alarm)

    def describe(exc: BaseException) -> str:
        if isinstance(exc, SystemExit):
            return f"SystemExit: called sys.exit({exc.code!r}); a graded notebook must not exit"
        if isinstance(exc, KeyboardInterrupt):
            return "KeyboardInterrupt"
        kind = "ImportError" if isinstance(exc, BlockedImportError) else type(exc).__name__
        text = f"{kind}: {exc}"
        return text if len(text) <= 2000 else text[:2000] + " ..."

    def where(exc: BaseException, label: str) -> str:
        """Where in the submission it went wrong: the innermost line of a cell in the traceback."""
        tb, found = exc.__traceback__, ""
        while tb is not None:
            fname = tb.tb_frame.f_code.co_filename
            if fname.startswith("<cell ") and (not label or fname == label):
                found = f"{fname[1:-1]}, line {tb.tb_lineno}"
            tb = tb.tb_next
        if not found:
            return ""
        return f" ({found})" if not label else f" (line {found.rpartition('line ')[2]})"

    def run_cell(index: int, source: str, name: str = "") -> dict:
        label = f"<cell {name}>" if name else f"<cell {index}>"
        try:
            tree = ast.parse(source, filename=label)
        except SyntaxError as exc:
            return {"ok": False, "kind": "exception", "error": f"SyntaxError: {exc.msg} (line {exc.lineno})"}
        errors = []
        for stmt in tree.body:  # statement by statement: one failing line does not hide later defs
            try:
                exec(compile(ast.Module([stmt], []), label, "exec"), ns)
            except _Timeout:
                raise
            except BaseException as exc:  # noqa: BLE001 (the submission may raise anything)
                if isinstance(exc, BlockedImportError):
                    for node in ast.walk(stmt):
                        if isinstance(node, ast.Import):
                            for a in node.names:
                                if a.name.partition(".")[0] in blocked:
                                    blocked_aliases[a.asname or a.name.partition(".")[0]] = a.name.partition(".")[0]
                        elif isinstance(node, ast.ImportFrom) and (node.module or "").partition(".")[0] in blocked:
                            for a in node.names:
                                blocked_aliases[a.asname or a.name] = node.module.partition(".")[0]
                errors.append(describe(exc) + where(exc, label))
        if errors:
            more = f" (and {len(errors) - 1} more error(s) in this cell)" if len(errors) > 1 else ""
            return {"ok": False, "kind": "exception", "error": errors[0] + more}
        return {"ok": True}

    def to_handle(obj) -> dict:
        hid = next_handle[0]
        next_handle[0] += 1
        kept[hid] = obj
        return {"__handle__": hid, "type": type(obj).__name__}

    def make_handle(hid, type_name):
        if hid not in kept:
            raise LookupError(f"unknown handle {hid}")
        return kept[hid]

    def run_call(header: dict, arrays: list) -> tuple[dict, list]:
        name = header["name"]
        fn = ns.get(name)
        if fn is None:
            return {"ok": False, "kind": "missing", "error": f"{name} is not defined in the submission"}, []
        if not callable(fn):
            return {"ok": False, "kind": "missing", "error": f"{name} is a {type(fn).__name__}, not a function"}, []
        try:
            args = decode(header["args"], arrays, make_handle, lambda s: np.random.default_rng(s))
        except LookupError as exc:
            return {"ok": False, "kind": "exception", "error": f"stale handle: {exc}"}, []
        state["blocked_hit"] = ""
        try:
            result = fn(*args)
        except _Timeout:
            raise
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, NameError) and getattr(exc, "name", None) in blocked_aliases:
                mod = blocked_aliases[exc.name]
                return {"ok": False, "kind": "blocked-import", "error": (
                    f"NameError: name {exc.name!r} is not defined, because {blocked_msg.format(name=mod)}")}, []
            if isinstance(exc, ImportError) and state["blocked_hit"]:
                return {"ok": False, "kind": "blocked-import", "error": describe(exc)}, []
            return {"ok": False, "kind": "exception", "error": describe(exc) + where(exc, "")}, []
        keep = set(header.get("keep", []))
        out_arrays: list = []
        reply = {"ok": True}
        try:
            if isinstance(result, tuple) and keep:
                value = {"__tuple__": [
                    to_handle(v) if i in keep else encode(v, out_arrays, to_handle) for i, v in enumerate(result)
                ]}
            else:
                value = encode(result, out_arrays, to_handle)
            if header.get("return_args"):  # the arguments as the call left them (in-place updates)
                reply["args"] = encode(list(args), out_arrays, to_handle)
        except Exception as exc:  # noqa: BLE001
            return {"ok": False, "kind": "bad-output", "error": f"{name} returned something that cannot be sent: {exc}"}, []
        reply["value"] = value
        return reply, out_arrays

    # What a submission may break for itself but not for the worker: restored after every request.
    saved_builtins = dict(builtins.__dict__)
    saved_meta_path, saved_path_hooks = list(sys.meta_path), list(sys.path_hooks)
    saved_modules = {k: sys.modules[k] for k in ("json", "struct", "io", "zipfile", "numpy") if k in sys.modules}

    def restore() -> None:
        builtins.__dict__.clear()
        builtins.__dict__.update(saved_builtins)
        sys.meta_path[:] = saved_meta_path + [f for f in sys.meta_path if f not in saved_meta_path]
        sys.path_hooks[:] = saved_path_hooks
        sys.modules.update(saved_modules)

    sys.addaudithook(audit)  # last: from here on only submission code and the request loop run
    while True:
        try:
            (n,) = struct.unpack(">Q", _read_exact(req_fd, 8))
            header, arrays = unpack(_read_exact(req_fd, n))
        except EOFError:
            os._exit(0)
        except Exception:  # noqa: BLE001 (cannot happen with our parent; stop rather than guess)
            os._exit(3)
        op, seq = header.get("op"), header.get("seq")
        timeout = float(header.get("timeout", 0) or 0)
        writer = _CappedWriter(cap)
        sys.stdout = sys.stderr = writer
        out_arrays: list = []
        try:
            if timeout > 0:
                signal.setitimer(signal.ITIMER_REAL, timeout)
            if op == "cell":
                reply = run_cell(int(header["index"]), str(header["source"]), str(header.get("name", "")))
            elif op == "call":
                reply, out_arrays = run_call(header, arrays)
            elif op == "ping":
                reply = {"ok": True}
            else:
                reply = {"ok": False, "kind": "exception", "error": f"unknown op {op!r}"}
        except _Timeout:
            reply = {"ok": False, "kind": "timeout", "error": f"took longer than {timeout:g} s and was stopped"}
        except BaseException as exc:  # noqa: BLE001 (e.g. SystemExit raised from a __del__)
            reply = {"ok": False, "kind": "exception", "error": describe(exc)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = real_stdout, real_stderr
            restore()
        reply["seq"] = seq
        reply["stdout"] = writer.text()
        try:
            payload = pack(reply, out_arrays)
        except Exception as exc:  # noqa: BLE001
            payload = pack({"seq": seq, "ok": False, "kind": "bad-output", "error": str(exc)}, [])
        _write_all(rep_fd, struct.pack(">Q", len(payload)) + payload)


if __name__ == "__main__":
    import sys

    _main(sys.argv)
