"""`python -m autograder ...`: the same command as the `rnn-grade` console script."""

import sys

from autograder.cli import main

sys.exit(main())
