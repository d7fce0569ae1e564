"""Dead code and needless copies out of forward-mode output: same results, less code."""

from __future__ import annotations

import ast
import textwrap
from typing import Any

import pytest

from codegen.optimize.prune import live_forward, prune


def _pruned(body: str) -> str:
    tree = ast.parse(textwrap.dedent(body))
    return "\n".join(ast.unparse(statement) for statement in prune(tree.body))


def _run(body: str, **args: Any) -> Any:
    params = ", ".join(args)
    namespace: dict[str, Any] = {}
    exec(f"def f({params}):\n" + textwrap.indent(textwrap.dedent(body), "    "), namespace)
    return namespace["f"](**args)


CASES = {
    "a loop-carried value that leads nowhere": (
        """
        s = 0.0
        y = x
        for i in range(n):
            s = s + x
            y = y * 2
        return y
        """,
        ["s"],
    ),
    "a list nobody pops or reads": (
        """
        xs = []
        xs_dot = []
        for i in range(n):
            xs.append(x * i)
            xs_dot.append(i)
        total = 0.0
        for i in range(n):
            total = total + xs.pop()
            unused = xs_dot.pop()
        return total
        """,
        ["xs_dot", "unused"],
    ),
    "a copy read as its source": (
        """
        b = x * 2
        a = b
        c = a * 3
        return c
        """,
        ["a"],
    ),
    "a copy read before its source is bound again": (
        """
        b = x * 2
        for i in range(n):
            a = b
            c = a * 3
            b = c + a
        return b
        """,
        ["a"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES), ids=str)
def test_pruned_code_computes_the_same(name: str) -> None:
    body, gone = CASES[name]
    pruned = _pruned(body)
    names = {n.id for n in ast.walk(ast.parse(pruned)) if isinstance(n, ast.Name)}
    assert not names & set(gone), pruned
    for n in (0, 1, 4):
        assert _run(pruned, x=0.7, n=n) == _run(body, x=0.7, n=n)


def test_a_pop_whose_value_is_unused_keeps_its_list_in_step() -> None:
    body = """
    xs = [1.0, 2.0, x]
    a = xs.pop()
    b = xs.pop()
    return b
    """
    assert "a = xs.pop()" in _pruned(body)
    assert _run(_pruned(body), x=5.0) == 2.0


def test_a_copy_is_kept_where_its_source_changes_first() -> None:
    body = """
    b = x
    a = b
    b = 3.0
    c = a + b
    return c
    """
    assert "a = b" in _pruned(body)


def test_returned_names_are_kept() -> None:
    assert _pruned("b = x * 2\na = b\nreturn a") == "b = x * 2\na = b\nreturn a"


def test_control_flow_that_reads_a_list_keeps_its_pops() -> None:
    body = """
    xs = [x, x]
    out = 0.0
    while len(xs) > 0:
        unused = xs.pop()
        out = out + 1.0
    return out
    """
    assert "xs.pop()" in _pruned(body)
    assert _run(_pruned(body), x=1.0) == 2.0


# ---- the forward pass of a backward: values nothing reads go -------------------------
def _live(body: str, live_after: set[str]) -> str:
    tree = ast.parse(textwrap.dedent(body))
    return "\n".join(ast.unparse(statement) for statement in live_forward(tree.body, live_after))


def test_the_output_no_gradient_reads_goes_and_what_it_alone_read_with_it() -> None:
    body = """
    a = x * y
    b = a + 1.0
    out = b * 2.0
    """
    assert _live(body, {"a"}) == "a = x * y"


def test_asserts_calls_and_what_they_read_stay() -> None:
    body = """
    n = x.shape[0]
    assert n > 0
    np.add.at(acc, idx, x)
    dead = n * 2
    """
    assert _live(body, set()) == "n = x.shape[0]\nassert n > 0\nnp.add.at(acc, idx, x)"


def test_an_item_assignment_stays_with_the_array_it_writes() -> None:
    body = """
    m = x.copy()
    m[0] = 0.0
    loss = np.sum(m)
    """
    assert _live(body, {"m"}) == "m = x.copy()\nm[0] = 0.0"
    assert _live(body, set()) == ""


def test_a_branch_loses_its_dead_statements_and_goes_when_empty() -> None:
    body = """
    if x > 0:
        y = x
        s = x * 2
    else:
        y = alpha * x
        s = x * 3
    """
    assert _live(body, set()) == ""
    assert _live(body, {"s"}) == "if x > 0:\n    s = x * 2\nelse:\n    s = x * 3"


def test_a_loop_keeps_what_the_backward_pops() -> None:
    body = """
    h_list = []
    unused_list = []
    for t in range(T):
        h = np.tanh(h + x[t])
        h_list.append(h)
        unused_list.append(t)
    out = h
    """
    kept = _live(body, {"h_list", "h"})
    assert "unused_list" not in kept and "out = h" not in kept
    assert "h_list.append(h)" in kept and "h = np.tanh(h + x[t])" in kept
