"""Modules assembled from pieces of the user's code, and errors put back where the user wrote them.

A live function's module is its source and its helpers' (each from its own file
or notebook cell, dedented), a notebook's is its code cells one after another.
Each piece remembers where it came from, so that a problem codegen finds in the
assembled text is reported at the user's file (or cell), line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen.errors import CodegenError, Problem, source_lines


@dataclass(frozen=True)
class Piece:
    """Lines of the user's code placed in an assembled module."""

    filename: str  # as the user knows it: a path, "Cell In[3]", "model.ipynb:cell 2"
    first_line: int  # the user's line number of the first line
    lines: tuple[str, ...]  # the user's lines, as written (before any dedent)
    indent: int = 0  # characters removed from the start of each line


@dataclass
class Assembled:
    """A module's text built piece by piece, and where each of its lines came from."""

    parts: list[str] = field(default_factory=list)
    starts: list[tuple[int, Piece]] = field(default_factory=list)  # (first line in the text, piece)
    _lines: int = 0

    def add_text(self, text: str) -> None:
        """Lines of codegen's own making (imports read from a function's globals)."""
        self._append(text)

    def add(self, piece: Piece, text: str) -> None:
        """`text`, the piece's lines as codegen reads them (same count of lines)."""
        if self._lines:
            self._append("\n\n")
        self.starts.append((self._lines + 1, piece))
        self._append(text)

    def _append(self, text: str) -> None:
        if not text.endswith("\n"):
            text += "\n"
        self.parts.append(text)
        self._lines += len(source_lines(text))

    @property
    def source(self) -> str:
        return "".join(self.parts)

    def where(self, line: int) -> tuple[Piece, int] | None:
        """The piece holding the assembled text's `line`, and the user's line number."""
        for start, piece in reversed(self.starts):
            if start <= line < start + len(piece.lines):
                return piece, piece.first_line + line - start
        return None

    def user_problem(self, problem: Problem, fallback: Piece) -> Problem:
        """`problem` at the user's position; one on a line of codegen's own making
        (or none: line 1, column 1 of the whole text) is put at `fallback`'s first line."""
        found = self.where(problem.line)
        if found is None:
            text = fallback.lines[0] if fallback.lines else ""
            return Problem(fallback.filename, fallback.first_line, 1, problem.message, text)
        piece, line = found
        text = piece.lines[line - piece.first_line]
        return Problem(piece.filename, line, problem.column + piece.indent, problem.message, text)

    def user_error(self, error: CodegenError, fallback: Piece) -> CodegenError:
        """The same error (of the same class), each problem at the user's position."""
        problems = [self.user_problem(p, fallback) for p in error.problems]
        unique = list(dict.fromkeys(problems))
        return type(error)(unique)
