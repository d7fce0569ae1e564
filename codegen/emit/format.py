"""Format generated code with black, honouring the user's line length and targets.

Black takes about a millisecond a line, and most generated lines are short
statements it would leave exactly as written. Those lines (and the comments
among them) are set aside: each run of them inside a function body reaches
black as one placeholder statement, and comes back in its place afterwards.
`black_only` formats everything with black, to check that both agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import black

# `name = expr`, `name[index] += expr`, ...: what black prints unchanged when the
# line fits, given the canonical spacing of ast.unparse. Strings (in an index too),
# powers black would hug and we have not, slices and lambdas (colons), right-hand sides in
# parentheses as a whole (tuples, or parentheses black drops), trailing commas and
# inline comments are left to black.
_SIMPLE = re.compile(r"( +)[A-Za-z_][A-Za-z0-9_.]*(\[[^\]:'\"]*\])? (=|\+=|-=|\*=|/=) [^\s'\"#:;\\][^'\"#:;\\]*")
_UNSURE = re.compile("|".join(re.escape(part) for part in (" ** ", ",)", ",]", " lambda ", " if ")))
_COMMENT = re.compile(r"( +)# \S[^\t]*\S|( +)# \S")
# A power black hugs (`t**2`): a name or number after a space or a bracket, a
# number after it, then a space, a closing bracket or the end of the line. Black
# hugs more; those lines are left to it.
_POWER = re.compile(r"(?<=[ (])([A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?) \*\* ([0-9]+(?:\.[0-9]+)?)(?=[ )]|$)")


def format_code(code: str, *, line_length: int = 88, target_versions: Sequence[str] = ()) -> str:
    mode = _mode(line_length, target_versions)
    skeleton, runs, marker = _set_aside(code.split("\n"), line_length)
    formatted = black.format_str("\n".join(skeleton), mode=mode)
    return _restore(formatted, runs, marker)


def black_only(code: str, *, line_length: int = 88, target_versions: Sequence[str] = ()) -> str:
    return black.format_str(code, mode=_mode(line_length, target_versions))


def _mode(line_length: int, target_versions: Sequence[str]) -> black.Mode:
    versions = {black.TargetVersion[v.upper()] for v in target_versions}
    return black.Mode(target_versions=versions, line_length=line_length)


def _is_simple(line: str, line_length: int) -> bool:
    return (
        len(line) <= line_length
        and _SIMPLE.fullmatch(line) is not None
        and _UNSURE.search(line) is None
        and not _in_parentheses(line)
        and _balanced(line)
    )


def _balanced(line: str) -> bool:
    """Whether the line's brackets close on it: not the first line of a statement
    black has already split (`dx = np.tensordot(`), which is not simple."""
    return sum(line.count(c) for c in "([{") == sum(line.count(c) for c in ")]}")


def _in_parentheses(line: str) -> bool:
    """Whether the right-hand side is one parenthesised whole (`x = (a, b)`, or
    parentheses black would drop); `x = (1 - t) * g` is not."""
    rhs = line.partition("= ")[2]
    if not rhs.startswith("("):
        return False
    depth = 0
    for i, char in enumerate(rhs):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0:
            return i == len(rhs) - 1
    return True


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" "))]


def _set_aside(lines: list[str], line_length: int) -> tuple[list[str], list[list[str]], str]:
    """The lines with each run of simple statements (and comments before them, at
    the same indentation) replaced by a placeholder; the runs; the placeholder's stem."""
    marker = "_codegen_run_"
    while any(marker in line for line in lines):
        marker = f"_{marker}"
    skeleton: list[str] = []
    runs: list[list[str]] = []
    pending: list[str] = []  # comments that may start a run

    def flush_comments() -> None:
        skeleton.extend(pending)
        pending.clear()

    in_string = False  # inside a docstring: its lines are never rewritten
    for line in lines:
        indent = _indent(line)
        comment = "#" in line and _COMMENT.fullmatch(line) is not None
        if comment and (not pending or _indent(pending[0]) == indent):
            pending.append(line)
            continue
        if line.count('"""') % 2:
            in_string = not in_string
        elif " ** " in line and not in_string and not comment:
            line = _POWER.sub(r"\1**\2", line)
        if _is_simple(line, line_length) and all(_indent(c) == indent for c in pending):
            previous = skeleton[-1] if skeleton else ""
            if previous.startswith(f"{indent}{marker}") and _indent(previous) == indent:
                runs[-1] += [*pending, line]  # comments between simple lines join the run
                pending.clear()
                continue
            runs.append([*pending, line])
            pending.clear()
            skeleton.append(f"{indent}{marker}{len(runs) - 1}")
            continue
        flush_comments()
        if comment:
            pending.append(line)
            continue
        skeleton.append(line)
    flush_comments()
    return skeleton, runs, marker


def _restore(formatted: str, runs: list[list[str]], marker: str) -> str:
    out: list[str] = []
    for line in formatted.split("\n"):
        stripped = line.lstrip(" ")
        if stripped.startswith(marker) and stripped[len(marker) :].isdigit():
            run = runs[int(stripped[len(marker) :])]
            shift = len(line) - len(stripped) - len(_indent(run[-1]))
            out += [(" " * shift + r) if shift >= 0 else r[-shift:] for r in run]
        else:
            out.append(line)
    return "\n".join(out)
