"""Docstrings and comments wrapped to the line length, the last step of formatting.

black splits code but never text: a docstring line or a `# backprop ...` comment
longer than the line length stays as it is, and linters' E501 reports it. Each
such line is wrapped at spaces, at its own indentation; a comment's continuation
lines are indented four more columns after the `#`. A word longer than the line
(a hash, a long name) is never broken. Lines that fit are left alone, so the
step changes nothing in code black already formatted to fit.
"""

from __future__ import annotations

import ast
import io
import textwrap
import tokenize

from codegen.emit import header

_PRAGMAS = ("# type:", "# noqa", "# fmt:", "# pragma")


def wrap(code: str, line_length: int) -> str:
    """`code` with its over-long docstring lines and whole-line comments wrapped."""
    lines = code.split("\n")
    if all(len(line) <= line_length for line in lines):
        return code
    docstrings = _docstring_lines(code)
    comments = _comment_lines(code)
    out: list[str] = []
    for number, line in enumerate(lines, 1):
        if len(line) <= line_length:
            out.append(line)
        elif number in docstrings:
            out += _wrapped(line, line_length, "", "")
        elif number in comments and not line.lstrip().startswith(_PRAGMAS):
            indent = line[: len(line) - len(line.lstrip(" "))]
            out += _wrapped(indent + line.strip()[1:].lstrip(" "), line_length, "# ", "#     ")
        else:
            out.append(line)
    return "\n".join(out)


def _wrapped(line: str, line_length: int, first: str, rest: str) -> list[str]:
    """`line`'s text in lines of at most `line_length`, at its indentation, the
    first line prefixed `first` and the others `rest`."""
    indent = line[: len(line) - len(line.lstrip(" "))]
    width = line_length - len(indent) - max(len(first), len(rest))
    pieces = textwrap.wrap(line.strip(), width=max(width, 20), break_long_words=False, break_on_hyphens=False)
    return [f"{indent}{first if i == 0 else rest}{piece}" for i, piece in enumerate(pieces)] or [line]


def _docstring_lines(code: str) -> set[int]:
    """The line numbers of the module's, functions' and classes' docstrings."""
    found: set[int] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return found


def _comment_lines(code: str) -> set[int]:
    """The line numbers of comments alone on their line (after the header)."""
    found: set[int] = set()
    below = header.length(code)
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip() and token.start[0] > below:
            found.add(token.start[0])
    return found
