"""A gradient assembled from slices that tile its array is written, not accumulated.

The backward of `i = a[:, :H]`, `f = a[:, H:2 * H]`, ... starts `da` as
`np.zeros_like(a)` and adds each slice's gradient with `+=`. When those slices
tile the array (they follow each other along one axis, from the start to the
end, and no other statement touches `da` meanwhile), every element is written
exactly once: `np.empty_like(a)` and `=` do the same work without the zero fill
and the reads, as a hand-written LSTM backward does.

The slices tile only if their bounds never decrease: each bound is read as a sum
of non-negative terms (literals, sizes from `.shape` or `len`, and their
products with literals), and consecutive bounds must compare term by term.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from codegen import unparse

_ZEROS = re.compile(r"([A-Za-z_]\w*) = ([A-Za-z_][\w.]*)\.zeros_like\(([A-Za-z_]\w*(?:, dtype=float)?)\)")
_ADD = re.compile(r"([A-Za-z_]\w*)\[(.*)\] \+= (.*)")
_BINDS = re.compile(r"^\s*(?:([A-Za-z_]\w*) [-+*/@%]?= |for ([A-Za-z_]\w*) in )")
_SIZE = re.compile(r"([A-Za-z_]\w*) = ([A-Za-z_]\w*\.shape\[\d+\]|len\([A-Za-z_]\w*\))")

Linear = Counter[str]  # term -> non-negative coefficient; "" for the constant


def tile(lines: list[str]) -> list[str]:
    """`lines` (one function body) with tiled gradients written directly."""
    sizes: set[str] | None = None  # read from all the lines, when first needed
    result = list(lines)
    for start, line in enumerate(lines):
        match = _ZEROS.fullmatch(line) if ".zeros_like(" in line else None
        if match is None:
            continue
        name = match.group(1)
        contributions = _contributions(lines, start, name)
        if not contributions:
            continue
        if sizes is None:
            sizes = _sizes(lines)
        if _tiles([index for _, index in contributions], sizes):
            result[start] = f"{name} = {match.group(2)}.empty_like({match.group(3)})"
            for at, _ in contributions:
                result[at] = result[at].replace(" += ", " = ", 1)
    return result


def _sizes(lines: list[str]) -> set[str]:
    """Names bound only to a `.shape[k]` or a `len(...)`: never negative."""
    bound: Counter[str] = Counter()
    as_size: Counter[str] = Counter()
    for line in lines:
        for match in _BINDS.finditer(line):
            bound[match.group(1) or match.group(2)] += 1
        if (match := _SIZE.fullmatch(line)) is not None:
            as_size[match.group(1)] += 1
    return {name for name, count in as_size.items() if bound[name] == count}


def _contributions(lines: list[str], start: int, name: str) -> list[tuple[int, str]]:
    """The `name[index] += ...` lines after `start`, up to the first other use of `name`."""
    found: list[tuple[int, str]] = []
    word = re.compile(rf"\b{re.escape(name)}\b")
    for at in range(start + 1, len(lines)):
        line = lines[at]
        if line.lstrip().startswith("#") or not word.search(line):
            continue
        match = _ADD.fullmatch(line)
        if match is None or match.group(1) != name or word.search(match.group(3)) or word.search(match.group(2)):
            break
        found.append((at, match.group(2)))
    return found


def _tiles(indices: list[str], sizes: set[str]) -> bool:
    """Whether the slices follow each other along one axis from start to end."""
    spans: dict[str, str] = {}
    axis: int | None = None
    for text in indices:
        try:
            index = ast.parse(f"_[{text}]", mode="eval").body.slice  # type: ignore[attr-defined]
        except SyntaxError:
            return False
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        partial = [i for i, p in enumerate(parts) if not _is_full(p)]
        if len(partial) != 1 or not isinstance(parts[partial[0]], ast.Slice) or (axis is not None and partial[0] != axis):
            return False
        axis = partial[0]
        piece = parts[axis]
        if piece.step is not None:
            return False
        lower = "" if piece.lower is None else unparse.expression(piece.lower)
        upper = "" if piece.upper is None else unparse.expression(piece.upper)
        if lower in spans or lower == "0" and "" in spans or lower == "" and "0" in spans:
            return False
        spans["" if lower == "0" else lower] = upper
    bound, visited = "", 0
    while bound in spans and visited < len(spans):
        following = spans[bound]
        visited += 1
        if following == "":
            return visited == len(spans)
        if not _at_most(bound, following, sizes):
            return False
        bound = following
    return False


def _is_full(part: ast.expr) -> bool:
    return isinstance(part, ast.Slice) and part.lower is None and part.upper is None and part.step is None


def _at_most(low: str, high: str, sizes: set[str]) -> bool:
    """Whether `low <= high` for every non-negative value of the sizes."""
    a, b = _linear(low or "0", sizes), _linear(high, sizes)
    return a is not None and b is not None and all(b[term] >= coefficient for term, coefficient in a.items())


def _linear(text: str, sizes: set[str]) -> Linear | None:
    """`text` as non-negative coefficients of sizes, or None."""

    def read(node: ast.expr) -> Linear | None:
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
            return Counter({"": node.value})
        if isinstance(node, ast.Name) and node.id in sizes:
            return Counter({node.id: 1})
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = read(node.left), read(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            left, right = read(node.left), read(node.right)
            if left is None or right is None:
                return None
            for scale, other in ((left, right), (right, left)):
                if set(scale) <= {""}:
                    return Counter({term: scale[""] * c for term, c in other.items()})
        return None

    try:
        return read(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return None
