"""Small result files for expensive runs: the numbers the book quotes, with where they came from.

Every file under ``results/`` is JSON with two keys: ``provenance`` (command, date, machine,
commit, quick mode) and ``data`` (whatever the experiment measured). Book pages read them with
`load_result`; experiments write them with `save_result`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from rnn_helpers.config import is_quick

RESULTS_ENV = "RNN_RESULTS_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]


def results_dir() -> Path:
    """Where results go: $RNN_RESULTS_DIR if set (quick runs in CI write to a scratch folder), else results/."""
    return Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "results")


def provenance(command: str | None = None) -> dict:
    """Command, UTC date, machine, git commit and quick flag for the current run."""
    return {
        "command": command or " ".join([Path(sys.executable).name, *sys.argv]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "commit": _git_commit(),
        "quick": is_quick(),
    }


def save_result(name: str, data: dict, command: str | None = None) -> Path:
    """Write results/<name>.json atomically and return its path."""
    out = results_dir() / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"provenance": provenance(command), "data": data}, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return out


def load_result(name: str, directory: Path | None = None) -> dict:
    """Read results/<name>.json; a missing file raises FileNotFoundError naming the command that makes it."""
    path = (directory or results_dir()) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `make results` (or the experiment named {name!r}) first")
    return json.loads(path.read_text())


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores ({cpu})"
    try:
        import torch

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10)
        # Untracked files count: an experiment run from new, uncommitted code must not look committed.
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
