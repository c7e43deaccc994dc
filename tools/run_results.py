"""Run every experiment in experiments/ (`make results`; quick mode in `make test`).

Each experiment is a module `experiments/<name>.py` with a `main()` that writes its result files
through `rnn_helpers.results.save_result`. Quick mode (RNN_QUICK=1) shrinks each run to seconds;
`make test` also points RNN_RESULTS_DIR at a scratch folder so the committed full results stay.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in (ROOT / "experiments").glob("*.py") if not p.name.startswith("_"))
    if not names:
        print("No experiments yet (experiments/ is empty).")
        return 0
    for name in names:
        path = ROOT / "experiments" / f"{name}.py"
        if not path.exists():
            print(f"error: no experiment {name!r} (looked for {path})", file=sys.stderr)
            return 1
        spec = importlib.util.spec_from_file_location(f"experiments.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        start = time.perf_counter()
        print(f"== {name}")
        module.main()
        print(f"== {name}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
