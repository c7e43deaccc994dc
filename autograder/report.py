"""The grading report: what every output format (terminal, Gradescope JSON, JUnit) is made from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TestResult:
    """One row of the report.

    name: shown to the student, e.g. "rnn_backward: dWh". group: the function or test group that
    `--only` selects, e.g. "rnn_backward". status: "passed" or "failed". output: feedback text.
    visibility: Gradescope visibility ("visible", "hidden", "after_due_date", "after_published").
    """

    name: str
    group: str
    score: float
    max_score: float
    status: str
    output: str = ""
    visibility: str = "visible"


@dataclass
class Report:
    """The result of grading one submission.

    error: set when the grader could not grade at all (exit code 2); tests may then be empty.
    """

    assignment: str
    submission: str
    seed: int
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    error: str = ""
    output: str = ""

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    @property
    def passed(self) -> int:
        return sum(t.status == "passed" for t in self.tests)

    @property
    def failed(self) -> int:
        return sum(t.status != "passed" for t in self.tests)

    @property
    def exit_code(self) -> int:
        """0 full marks; 1 some test failed; 2 the grader could not grade."""
        if self.error:
            return 2
        return 0 if self.failed == 0 and self.tests else 1
