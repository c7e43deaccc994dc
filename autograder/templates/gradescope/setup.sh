#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (the zip is in /autograder/source).
# Gradescope's image has no GPU, so torch comes from PyTorch's CPU wheel index: the CPU build is
# a fraction of the size of the CUDA build PyPI serves. `pip install torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cpu` is that small CPU build; the version matches requirements.txt.
set -euo pipefail
cd /autograder/source

apt-get update -q
apt-get install -y -q python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
PIP="/autograder/venv/bin/pip"
"$PIP" install -q --upgrade pip

TORCH_PIN="$(grep -E '^torch==' requirements.txt)"
"$PIP" install -q "$TORCH_PIN" --index-url https://download.pytorch.org/whl/cpu
# The grader needs only numpy, tqdm and nbformat besides torch; the pins come from requirements.txt.
"$PIP" install -q -c requirements.txt numpy tqdm nbformat
"$PIP" install -q --no-deps --no-build-isolation -e .
/autograder/venv/bin/python -c "import autograder.grade, torch, numpy; print('grader ready, torch', torch.__version__)"
