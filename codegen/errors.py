"""Errors reported to users: one ruff-style line per problem, with a caret."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line as Python's tokenizer ends it: form feeds and the other separators
# `str.splitlines` breaks at are not line ends to it.
_LINE = re.compile(r".*?(?:\r\n|\r|\n)|.+", re.S)


def source_lines(source: str) -> list[str]:
    """The lines of `source` as Python numbers them, each with its line end."""
    return _LINE.findall(source)


# Rule codes, by what a message says: editors' problem matchers and
# `--output-format github|json` carry them.
CODES: list[tuple[str, re.Pattern[str]]] = [
    ("CG001", re.compile(r"^(syntax error|cannot parse|cannot decode byte)")),
    ("CG101", re.compile(r"^no derivative rule for")),
    ("CG102", re.compile(r"^cannot differentiate")),
    ("CG103", re.compile(r"not supported|^only .* supported")),
    ("CG201", re.compile(r"^(shape mismatch|cannot reshape)")),
    ("CG202", re.compile(r" is used as .* but (as|is) ")),  # what a value is contradicts itself
    ("CG301", re.compile(r"^no forward function")),
    ("CG302", re.compile(r"^input is itself generated")),
    ("CG401", re.compile(r"too deeply nested")),
    ("CG501", re.compile(r"^orphaned output")),
    ("CG502", re.compile(r"^edited by hand")),
    ("CG503", re.compile(r"^refusing to overwrite")),
]
OTHER_CODE = "CG100"
# What `ignore = [...]` may name: a message that stops no output from being
# written. Every other code means an input has no output (or an output cannot be
# written), which no setting can make go away.
IGNORABLE = {
    "CG501": "an orphaned output: its forward file is gone, or the output pattern names another file",
    "CG502": "an output edited by hand (it is regenerated, or stale under --check, all the same)",
}
# Reported, but no failure by themselves.
WARNINGS = frozenset({"CG502"})


def known_codes() -> list[str]:
    """Every rule code, in order."""
    return sorted({code for code, _ in CODES} | {OTHER_CODE})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, at a 1-based line and column."""

    filename: str
    line: int
    column: int
    message: str
    source_line: str = ""

    @property
    def code(self) -> str:
        """The rule code of the problem (`CG101`: no derivative rule)."""
        return next((code for code, pattern in CODES if pattern.search(self.message)), OTHER_CODE)

    @property
    def severity(self) -> str:
        """`error`, or `warning` for a message that fails nothing by itself."""
        return "warning" if self.code in WARNINGS else "error"

    def render(self, concise: bool = False) -> str:
        """`fwd.py:12:9: error: message  [CG101]`, then (unless `concise`) the
        source line and a caret."""
        head = f"{self.filename}:{self.line}:{self.column}: {self.severity}: {self.message}  [{self.code}]"
        if concise or not self.source_line:
            return head
        text = self.source_line.rstrip("\n").expandtabs(1)
        caret = " " * max(self.column - 1, 0) + "^"
        return f"{head}\n    {text}\n    {caret}"


class CodegenError(Exception):
    """The input cannot be differentiated; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("CodegenError needs at least one problem")
        self.problems = problems
        first = problems[0]
        self.filename = first.filename
        self.line = first.line
        self.column = first.column
        self.message = first.message
        super().__init__("\n".join(p.render() for p in problems))


class Collector:
    """Gathers problems for one source file so that all of them are reported."""

    def __init__(self, filename: str, source: str) -> None:
        self.filename = filename
        self.lines = [line.rstrip("\r\n") for line in source_lines(source)]
        self.problems: list[Problem] = []

    def add(self, line: int, column: int, message: str) -> None:
        """Record a problem; `line` is 1-based, `column` 0-based, in characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        problem = Problem(self.filename, line, column + 1, message, text)
        if problem not in self.problems:
            self.problems.append(problem)

    def error(self, line: int, column: int, message: str) -> CodegenError:
        """Record a problem and return the error carrying everything so far."""
        self.add(line, column, message)
        return CodegenError(list(self.problems))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CodegenError(list(self.problems))


class NoForwardFunctions(CodegenError):
    """The module defines no forward function (only private ones, or none)."""
