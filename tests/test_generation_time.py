"""Generation time grows linearly with the length of a function.

The passes over generated text that copied a growing set per statement (names
surely bound, names live) or looked names up in a list (names first read) made
a 4000-statement function take seconds more than it should. Timing the passes
alone on 1,000 and 16,000 statements, best of three: linear work takes about
16x as long, the quadratic forms took 50x to 200x."""

from __future__ import annotations

import ast
import gc
import time
from collections.abc import Callable

from codegen.emit.bound import maybe_unbound
from codegen.emit.module import first_reads
from codegen.optimize import prune


def _lines(n: int) -> list[str]:
    """A straight-line body in which each value is read by the next one and by a
    return at the end (so every value stays live and surely bound), and each
    statement reads a name bound nowhere (`d5`: read first)."""
    lines = [f"a{i} = a{i - 1} * d{i} + b" for i in range(2, n + 2)]
    return [*lines, "return " + ", ".join(f"a{i}" for i in range(n + 2))]


def _best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        gc.collect()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _growth(run: Callable[[list[str]], object]) -> float:
    small, large = _lines(1000), _lines(16000)
    return _best(lambda: run(large)) / _best(lambda: run(small))


def test_names_surely_bound_are_found_in_linear_time() -> None:
    assert _growth(lambda lines: maybe_unbound(lines, {"a0", "a1", "b"})) < 32


def test_names_first_read_are_found_in_linear_time() -> None:
    small, large = (ast.parse("\n".join(_lines(n))) for n in (1000, 16000))
    assert _best(lambda: first_reads(large)) / _best(lambda: first_reads(small)) < 32


def test_live_statements_are_found_in_linear_time() -> None:
    def live(lines: list[str]) -> object:
        return prune.live_forward(ast.parse("\n".join(lines[:-1])).body, {f"a{i}" for i in range(len(lines))})

    assert _growth(live) < 32


def test_the_passes_still_answer_the_same() -> None:
    lines = ["if c:", "    x = 1.0", "y = x + b", "for i in range(3):", "    z = y", "return z"]
    assert maybe_unbound(lines, {"b", "c"}) == ["x"]  # a loop is taken to bind what its body binds
    assert first_reads(ast.parse("\n".join(lines))) == ["c", "x", "b", "range", "z"]
    kept = prune.live_forward(ast.parse("w = b * 2\nv = b + 1\nu = v * v").body, {"u"})
    assert [ast.unparse(s) for s in kept] == ["v = b + 1", "u = v * v"]
