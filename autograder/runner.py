"""Runs a submission's code in a separate, limited worker process and calls its functions.

    with Submission("notebooks/01_rnn_bptt.ipynb") as sub:
        res = sub.call("rnn_step_forward", x, h, Wx, Wh, b, keep=(1,))   # -> CallResult
        if res.ok:
            next_h, cache = res.value                                     # cache is a Handle

The grader never imports submission code. Inputs travel as copies, results come back as
plain data (npz without pickles, or JSON); everything else stays in the worker as a
`Handle`. Time limits are enforced here, by killing the worker's process group; after a
crash or timeout the next call transparently starts a fresh worker (re-running the cells),
so one bad function does not cost the others.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import _worker
from autograder.protocol import CallResult, Handle, RngSpec

DEFAULT_BLOCKED = frozenset(
    {"torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "cupy", "theano", "chainer", "autograder"}
)
SKIP_TAG = "skip-grading"
WORKER = Path(_worker.__file__).resolve()
GRADER_DIR = WORKER.parent
MAX_RESTARTS = 25  # a submission that crashes its worker more often than this gets no more calls


@dataclass
class Cell:
    """One code cell to execute: `index` is its 1-based position among all the notebook's cells.

    origin: "" for the submission's own cells; the file name for a dependency's cells (an earlier
    assignment's notebook that runs first, see `Submission(prelude=...)`).
    """

    index: int
    source: str
    tags: list = field(default_factory=list)
    origin: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.origin, self.index)

    @property
    def label(self) -> str:
        first = next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")
        where = f"{self.origin}, cell {self.index}" if self.origin else f"cell {self.index}"
        return f"{where} ({first[:40]!r})" if first else where


class LoadError(Exception):
    """The submission file could not be read at all (grading then exits with code 2)."""


def _strip_magics(source: str) -> str:
    """Drop IPython magics and shell lines (``%...``, ``!...``), keeping the indentation valid."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # (magic removed by the grader)"
        lines.append(line)
    return "\n".join(lines)


def load_cells(path) -> tuple[list[Cell], dict]:
    """The cells to grade and the notebook metadata; raises LoadError with a readable message."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"could not read {path.name}: {exc}") from None
    if path.suffix == ".py":
        return [Cell(1, _strip_magics(text))], {}
    if path.suffix != ".ipynb":
        raise LoadError(f"{path.name}: expected a .ipynb notebook or a .py file")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            "the notebook file is damaged; re-download it or save it again from Jupyter"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise LoadError(f"{path.name} is JSON but not a Jupyter notebook (no list of cells)")
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    cells = []
    for i, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else str(src)
        cmeta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        tags = [t for t in cmeta.get("tags", []) if isinstance(t, str)] if isinstance(cmeta.get("tags"), list) else []
        if SKIP_TAG in tags or not src.strip():
            continue
        cells.append(Cell(i, _strip_magics(src), tags))
    return cells, meta


def _worker_env(home: str) -> dict:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    env.update(
        HOME=home, TMPDIR=home, MPLBACKEND="Agg", MPLCONFIGDIR=home, RNN_QUICK="1",
        OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class _Worker:
    """One child process and its pipes; dies on the first protocol violation or timeout."""

    def __init__(self, sub: "Submission", generation: int):
        self.generation = generation
        self.sandbox = tempfile.mkdtemp(prefix="rnn-grade-")
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        limits = {
            "memory_mb": sub.memory_mb,
            "cpu_s": int(60 + 4 * (sub.cell_timeout + sub.call_timeout) * 10),
            "file_bytes": 64 * 1024 * 1024,
            "blocked": sorted(sub.blocked_modules),
            "sandbox": self.sandbox,
            # The grader's own files, and the course's solutions when grading on an instructor's checkout.
            "no_read": [str(GRADER_DIR), str(GRADER_DIR.parent / "solutions")] + [str(p) for p in sub.no_read],
            "handle_base": generation * _worker.HANDLE_STRIDE,
            "max_output_bytes": sub.max_output_bytes,
            "preload": list(sub.preload),
        }
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(WORKER), str(req_r), str(rep_w), json.dumps(limits)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                cwd=self.sandbox, env=_worker_env(self.sandbox), pass_fds=(req_r, rep_w),
                start_new_session=True,
            )
        finally:
            os.close(req_r)
            os.close(rep_w)
        os.set_blocking(self.req_w, False)
        os.set_blocking(self.rep_r, False)
        self.seq = 0
        self.output = bytearray()
        self.output_total = 0
        self.cap = sub.max_output_bytes
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self) -> None:
        """Keep the first `cap` bytes of what the worker writes to its stdout/stderr; discard the rest."""
        stream = self.proc.stdout
        while True:
            chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
            if not chunk:
                return
            self.output_total += len(chunk)
            room = self.cap - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.req_w = self.rep_r = -1
        self.drain.join(timeout=1)
        shutil.rmtree(self.sandbox, ignore_errors=True)

    def request(self, header: dict, arrays: list, limit: float) -> tuple[dict, list]:
        """Send one request and wait at most `limit` seconds for its reply.

        Raises TimeoutError, or EOFError when the worker died or broke the protocol.
        """
        self.seq += 1
        header = dict(header, seq=self.seq)
        payload = _worker.pack(header, arrays)
        deadline = time.monotonic() + limit
        self._send(struct.pack(">Q", len(payload)) + payload, deadline)
        (n,) = struct.unpack(">Q", self._recv(8, deadline))
        if n > _worker.MAX_FRAME:
            raise EOFError(f"the worker sent a reply of {n} bytes (limit {_worker.MAX_FRAME})")
        try:
            reply, out = _worker.unpack(self._recv(n, deadline))
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            raise EOFError(f"the worker sent malformed data ({exc})") from None
        if reply.get("seq") != self.seq:
            raise EOFError("the worker's reply did not match the request (protocol violation)")
        return reply, out

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [self.req_w], [], left)
            if ready:
                try:
                    view = view[os.write(self.req_w, view) :]
                except BrokenPipeError:
                    raise EOFError("the worker stopped") from None

    def _recv(self, n: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.rep_r], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(self.rep_r, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("the worker stopped")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def _no_rng(seed):
    raise ValueError("a worker may not send random generators")


class Submission:
    """A submission loaded into a sandboxed worker process (use as a context manager)."""

    def __init__(
        self,
        path,
        *,
        cell_timeout: float = 10.0,
        call_timeout: float = 10.0,
        memory_mb: int = 2048,
        max_output_bytes: int = 65536,
        blocked_modules=DEFAULT_BLOCKED,
        no_read=(),
        prelude=(),
        postlude=(),
        preload=(),
    ):
        """prelude: `Cell`s (with an origin) run before the submission's own cells, in the same
        namespace: an earlier assignment's graded cells, read by the grader (not by the worker).
        postlude: `Cell`s run after them (a spec's HARNESS: grader code that drives a submitted class).
        preload: modules the worker imports before its audit hook starts (torch, for a PyTorch assignment)."""
        self.path = Path(path)
        self.prelude: list[Cell] = list(prelude)
        self.postlude: list[Cell] = list(postlude)
        self.preload = tuple(str(m) for m in preload)
        self.cell_timeout = float(cell_timeout)
        self.call_timeout = float(call_timeout)
        self.memory_mb = int(memory_mb)
        self.max_output_bytes = int(max_output_bytes)
        self.blocked_modules = frozenset(blocked_modules) | {"autograder"}
        self.no_read = tuple(no_read)
        self.cells: list[Cell] = []
        self.metadata: dict = {}
        self.load_error = ""
        self.cell_errors: list[str] = []
        self.cell_output: dict[int, str] = {}
        self.restarts = 0
        self._bad_cells: set[tuple[str, int]] = set()
        self._reported: set[tuple[str, int]] = set()  # cells whose output and errors are recorded (once, on first run)
        self._worker: _Worker | None = None
        self._generation = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> "Submission":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        try:
            self.cells, self.metadata = load_cells(self.path)
        except LoadError as exc:
            self.load_error = str(exc)
            return
        self._start(first=True)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    @property
    def output(self) -> str:
        """What the worker wrote straight to its file descriptors (capped), for diagnostics."""
        return bytes(self._worker.output).decode("utf-8", "replace") if self._worker else ""

    def _start(self, first: bool) -> None:
        """Start a worker and run the cells, leaving out cells that killed or hung an earlier worker."""
        while True:
            self._generation += 1
            self._worker = _Worker(self, self._generation)
            for cell in self.prelude + self.cells + self.postlude:
                if cell.key in self._bad_cells:
                    continue
                header = {"op": "cell", "index": cell.index, "source": cell.source, "timeout": self.cell_timeout}
                if cell.origin:
                    header["name"] = f"{cell.origin}:{cell.index}"
                try:
                    reply, _ = self._worker.request(header, [], self.cell_timeout + 1.0)
                except (TimeoutError, EOFError) as exc:
                    timed_out = isinstance(exc, TimeoutError)
                    self._bad_cells.add(cell.key)
                    self.cell_errors.append(
                        f"{cell.label}: "
                        + (f"took longer than {self.cell_timeout:g} s and was stopped" if timed_out
                           else "the worker process died while running this cell (os._exit, a crash, or too much memory)")
                        + "; the rest of the notebook was graded without it"
                    )
                    self._worker.kill()
                    break
                if reply.get("kind") == "timeout":
                    self._bad_cells.add(cell.key)  # not re-run when a later crash restarts the worker
                if first and cell.key not in self._reported:
                    self._reported.add(cell.key)
                    if reply.get("stdout") and not cell.origin:
                        self.cell_output[cell.index] = str(reply["stdout"])[: self.max_output_bytes + 200]
                    if not reply.get("ok"):
                        self.cell_errors.append(f"{cell.label}: {str(reply.get('error', ''))[:2000]}")
            else:
                return

    def _ensure_worker(self) -> str:
        if self.load_error:
            return self.load_error
        if self._worker is not None and self._worker.alive():
            return ""
        if self.restarts >= MAX_RESTARTS:
            return f"the submission's worker was restarted {MAX_RESTARTS} times; no further calls are made"
        self.restarts += 1
        if self._worker is not None:
            self._worker.kill()
        self._start(first=False)
        return ""

    # -- calls -------------------------------------------------------------------------------

    def call(self, name: str, *args, keep=(), timeout: float | None = None, return_args: bool = False) -> CallResult:
        """Call the submission's top-level function `name` with copies of `args`.

        return_args: also send back the arguments as the call left them, in `details["args"]` (a list),
        to see what a function changed in place.
        """
        limit = self.call_timeout if timeout is None else float(timeout)
        problem = self._ensure_worker()
        if problem:
            return CallResult(ok=False, kind="crash", error=problem)
        stale = self._stale_handle(args)
        if stale:
            return CallResult(ok=False, kind="crash", error=stale)
        arrays: list = []
        try:
            enc = _worker.encode(list(args), arrays)
        except _worker.Unencodable as exc:
            raise TypeError(f"cannot send this argument to the submission: {exc}") from None
        header = {"op": "call", "name": str(name), "args": enc, "keep": [int(k) for k in keep], "timeout": limit}
        if return_args:
            header["return_args"] = True
        worker = self._worker
        t0 = time.perf_counter()
        try:
            reply, out = worker.request(header, arrays, limit + 1.0)
        except TimeoutError:
            worker.kill()
            return CallResult(ok=False, kind="timeout", error=f"{name} took longer than {limit:g} s and was stopped",
                              seconds=time.perf_counter() - t0)
        except EOFError as exc:
            worker.kill()
            detail = "" if str(exc) == "the worker stopped" else f": {exc}"
            return CallResult(
                ok=False, kind="crash", seconds=time.perf_counter() - t0,
                error=f"the process running the submission died during the call (os._exit(), a crash, "
                      f"or too much memory){detail}",
            )
        seconds = time.perf_counter() - t0
        stdout = str(reply.get("stdout", ""))[: self.max_output_bytes + 200]
        if not reply.get("ok"):
            kind = reply.get("kind") if reply.get("kind") in {
                "exception", "missing", "timeout", "blocked-import", "bad-output"} else "exception"
            error = str(reply.get("error", ""))[:4000]
            if kind == "missing" and self.cell_errors:
                error += " (some cells failed: " + "; ".join(self.cell_errors)[:600] + ")"
            return CallResult(ok=False, kind=kind, error=error, stdout=stdout, seconds=seconds)
        details = {}
        try:
            value = _worker.decode(reply.get("value"), out, Handle, _no_rng)
            if return_args:
                details["args"] = _worker.decode(reply.get("args"), out, Handle, _no_rng)
                if not isinstance(details["args"], list):
                    raise ValueError("the arguments did not come back as a list")
        except (ValueError, RecursionError) as exc:
            worker.kill()
            return CallResult(ok=False, kind="bad-output", error=f"{name} returned malformed data ({exc})",
                              stdout=stdout, seconds=seconds)
        return CallResult(ok=True, value=value, stdout=stdout, seconds=seconds, details=details)

    def _stale_handle(self, args) -> str:
        def walk(obj):
            if isinstance(obj, Handle):
                yield obj
            elif isinstance(obj, (list, tuple)):
                for v in obj:
                    yield from walk(v)
            elif isinstance(obj, dict):
                for v in obj.values():
                    yield from walk(v)

        for h in walk(args):
            if h.id // _worker.HANDLE_STRIDE != self._generation:
                return ("this cache came from a worker process that has since stopped (an earlier call crashed "
                        "or timed out); the forward pass must be called again")
        return ""


__all__ = ["Submission", "Cell", "LoadError", "load_cells", "DEFAULT_BLOCKED", "CallResult", "Handle", "RngSpec"]
