"""What one run of the `codegen` command tells: black-style messages, problems
in the chosen output format, the summary line and the exit code."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from codegen.cli.arguments import Settings
from codegen.errors import Problem

class Outcome(enum.Enum):
    """What happened to one input; the order is the summary's."""

    WRITTEN = "written"
    PRINTED = "printed"
    UNCHANGED = "unchanged"
    STALE = "would be regenerated"
    UP_TO_DATE = "up to date"
    SKIPPED = "skipped"
    FAILED = "failed"
    CRASHED = "crashed"


@dataclass
class Report:
    """Counts outcomes, prints black-style messages and picks the exit code."""

    settings: Settings
    outcomes: list[Outcome] = field(default_factory=list)
    output_format: str = "full"
    problems: list[Problem] = field(default_factory=list)
    # A job's report (see `run_job`) keeps its messages here, in order, for the
    # run's report to `replay`; `learnt` is the sha256 of the input and of its
    # output once the output is known to be up to date.
    events: list[tuple[str, object]] | None = None
    learnt: tuple[str, str] | None = None

    def ignores(self, code: str) -> bool:
        """Whether messages of this rule code are ignored (`--ignore`, `ignore = [...]`)."""
        return code in self.settings.ignore

    def problem(self, problem: Problem) -> None:
        """A problem in an input or an output, in the chosen output format; an
        ignored one (only ever a code of `errors.IGNORABLE`) is not shown."""
        if self.events is not None:
            self.events.append(("problem", problem))
            return
        if self.ignores(problem.code):
            return
        if self.output_format in ("full", "concise"):
            self.error(problem.render(concise=self.output_format == "concise"))
        elif self.output_format == "github":
            place = f"file={problem.filename},line={problem.line},col={problem.column},title=codegen {problem.code}"
            message = problem.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            write_stdout(f"::{problem.severity} {place}::{message}\n")
        else:
            self.problems.append(problem)

    def finish(self) -> None:
        """With --output-format json: every problem, as one JSON list on stdout."""
        if self.output_format == "json":
            found = [
                {
                    "filename": p.filename,
                    "line": p.line,
                    "column": p.column,
                    "code": p.code,
                    "severity": p.severity,
                    "message": p.message,
                }
                for p in self.problems
            ]
            write_stdout(json.dumps(found, indent=2) + "\n")

    def note(self, message: str) -> None:
        """A progress message on stderr, silenced by -q."""
        if not self.settings.quiet:
            self.error(message)

    def detail(self, message: str) -> None:
        """A message on stderr shown only with -v."""
        if self.settings.verbose and not self.settings.quiet:
            self.error(message)

    def error(self, message: str) -> None:
        """An error on stderr, always shown."""
        if self.events is not None:
            self.events.append(("stderr", message))
        else:
            print(message, file=sys.stderr)

    def stdout(self, text: str) -> None:
        """Generated code or a diff, on stdout."""
        if self.events is not None:
            self.events.append(("stdout", text))
        else:
            write_stdout(text)

    def replay(self, events: Sequence[tuple[str, object]]) -> None:
        """Show the messages a job's report kept, in their order."""
        for kind, payload in events:
            if kind == "problem":
                assert isinstance(payload, Problem)
                self.problem(payload)
            elif kind == "stdout":
                self.stdout(str(payload))
            else:
                self.error(str(payload))

    def summary(self) -> str:
        """`2 files written, 1 unchanged, 1 failed.`: non-zero counts only."""
        counts = {outcome: 0 for outcome in Outcome}
        for outcome in self.outcomes:
            counts[Outcome.FAILED if outcome is Outcome.CRASHED else outcome] += 1
        parts = []
        for outcome, n in counts.items():
            if n:
                noun = "" if parts else (" file" if n == 1 else " files")
                parts.append(f"{n}{noun} {outcome.value}")
        return ", ".join(parts) + "."

    def exit_code(self) -> int:
        """123 for a crash, else 1 for a failure, a stale --check or a flagged change, else 0."""
        if Outcome.CRASHED in self.outcomes:
            return 123
        if Outcome.FAILED in self.outcomes:
            return 1
        if self.settings.check and Outcome.STALE in self.outcomes:
            return 1
        if self.settings.exit_nonzero_on_change and Outcome.WRITTEN in self.outcomes:
            return 1
        return 0


def write_stdout(text: str) -> None:
    """Write `text` to stdout as UTF-8 with `\\n` newlines on every platform."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
    sys.stdout.flush()
