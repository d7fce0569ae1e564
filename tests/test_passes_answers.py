"""What the passes over generated text answer (names surely bound, names first
read, statements live), pinned while they were made linear.

Their growth with the length of a function is measured by hand, not asserted
here (the machines the tests run on are shared and noisy):
`python benchmarks/run.py --only generation --sizes 1000,4000 --clock cpu`."""

from __future__ import annotations

import ast

from codegen.emit.bound import maybe_unbound
from codegen.emit.module import first_reads
from codegen.optimize import prune


def test_the_passes_still_answer_the_same() -> None:
    lines = ["if c:", "    x = 1.0", "y = x + b", "for i in range(3):", "    z = y", "return z"]
    assert maybe_unbound(lines, {"b", "c"}) == ["x"]  # a loop is taken to bind what its body binds
    assert first_reads(ast.parse("\n".join(lines))) == ["c", "x", "b", "range", "z"]
    kept = prune.live_forward(ast.parse("w = b * 2\nv = b + 1\nu = v * v").body, {"u"})
    assert [ast.unparse(s) for s in kept] == ["v = b + 1", "u = v * v"]
