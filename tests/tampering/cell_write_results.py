# Tampering: write a perfect results.json where the grader will write its own, and next to the notebook.
import json

perfect = {"score": 100.0, "max_score": 100.0, "output": "perfect", "tests": []}
for target in ("{{RESULTS}}", "results.json", "../results.json"):
    try:
        with open(target, "w") as f:
            json.dump(perfect, f)
    except OSError as exc:
        print("could not write", target, exc)
