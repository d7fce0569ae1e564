"""`np.einsum` in every subscript form, on random subscripts.

A seeded generator writes valid calls: one to three operands, labels repeated
within an operand (diagonals, traces), the same parameter passed twice, an
ellipsis at the front or in the middle of a term that broadcasts against the
others' (fewer dimensions, or a 1), implicit and explicit outputs, and outputs
that sum every label away. Each program is checked against central differences
in reverse mode, split style against the fused backward, forward mode against
central differences, and the HVP against differences of the gradient.
"""

from __future__ import annotations

import string
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import codegen
from codegen import CodegenError
from tests.support import check_gradients, check_split_style, load
from tests.test_forward_mode import check_jvp
from tests.test_hvp import check_hvp

PARAMS = ("x", "y", "z")


@dataclass(frozen=True)
class Program:
    spec: str
    operands: tuple[str, ...]  # a parameter per operand; one may come twice
    shapes: dict[str, tuple[int, ...]]

    @property
    def source(self) -> str:
        params = sorted(set(self.operands), key=PARAMS.index)
        call = f"np.einsum({self.spec!r}, {', '.join(self.operands)})"
        return textwrap.dedent(f"""\
            import math

            import numpy as np


            def f({", ".join(params)}):
                out = {call}
                return np.sin(out) + math.pi
            """)

    def arguments(self, rng: np.random.Generator) -> list[Any]:
        params = sorted(set(self.operands), key=PARAMS.index)
        return [rng.uniform(-1.0, 1.0, self.shapes[p]) for p in params]


def draw(rng: np.random.Generator) -> Program:
    """One valid einsum call; numpy itself says what it computes."""
    letters = list(rng.choice(list(string.ascii_letters[:6] + "XY"), size=5, replace=False))
    sizes = {c: int(rng.integers(2, 4)) for c in letters}
    batch = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(0, 3))))
    ellipsis = bool(batch) or rng.random() < 0.2
    count = int(rng.integers(1, 4))
    terms: list[str] = []
    operands: list[str] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(count):
        if k and rng.random() < 0.2:  # the same parameter again, with the same subscripts
            j = int(rng.integers(0, k))
            terms.append(terms[j])
            operands.append(operands[j])
            continue
        labels = [str(c) for c in rng.choice(letters, size=int(rng.integers(0, 4)))]
        name = PARAMS[len(shapes)]
        shape = [sizes[c] for c in labels]
        term = "".join(labels)
        if ellipsis and rng.random() < 0.7:
            own = batch[int(rng.integers(0, len(batch) + 1)):]  # fewer leading axes broadcast
            own = tuple(1 if rng.random() < 0.25 else n for n in own)
            at = 0 if rng.random() < 0.7 else int(rng.integers(0, len(labels) + 1))
            term = "".join(labels[:at]) + "..." + "".join(labels[at:])
            shape = shape[:at] + list(own) + shape[at:]
        terms.append(term)
        operands.append(name)
        shapes[name] = tuple(shape)
    used = sorted({c for t in terms for c in t if c != "."})
    if rng.random() < 0.3:
        spec = ",".join(terms)  # implicit output
    else:
        kept = [str(c) for c in rng.permutation(used) if rng.random() < 0.5]
        has_ellipsis = any("..." in t for t in terms)
        if has_ellipsis and (batch or rng.random() < 0.5):
            at = int(rng.integers(0, len(kept) + 1))
            kept.insert(at, "...")
        spec = ",".join(terms) + "->" + "".join(kept)
    program = Program(spec, tuple(operands), shapes)
    args = program.arguments(np.random.default_rng(0))
    np.einsum(spec, *(args[sorted(set(operands), key=PARAMS.index).index(p)] for p in operands))  # valid
    return program


def programs(n: int, seed: int) -> list[Program]:
    rng = np.random.default_rng(seed)
    found: list[Program] = []
    while len(found) < n:
        try:
            found.append(draw(rng))
        except ValueError:  # numpy refuses these subscripts: draw again
            continue
    return found


PROGRAMS = programs(60, seed=17)


def test_the_generator_draws_every_form() -> None:
    specs = [p.spec for p in PROGRAMS]
    assert any("->" not in s for s in specs), "implicit outputs"
    assert any(s.endswith("->") for s in specs), "everything summed"
    assert any("..." in s.partition("->")[0].split(",")[0][1:] for s in specs), "an ellipsis not in front"
    assert any(len(set(t)) < len(t) for s in specs for t in s.partition("->")[0].replace("...", "").split(",")), "a repeated label"
    assert any(len(set(p.operands)) < len(p.operands) for p in PROGRAMS), "a repeated operand"
    assert any(len(p.operands) == 3 for p in PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS, ids=[f"{p.spec}:{','.join(p.operands)}" for p in PROGRAMS])
def test_random_einsum(program: Program) -> None:
    source = program.source
    args = program.arguments(np.random.default_rng(1))
    forward, backward, code = load(source)
    check_gradients(forward["f"], backward["f_backward"], args)
    check_split_style(source, "f", forward["f"], backward["f_backward"], list(args))
    check_jvp(source, "f", [tuple(args)])
    check_hvp(source, "f", [tuple(args)])


SOURCE = '''\
import math

import numpy as np


def bilinear(x: "N D", A: "D D"):
    return np.einsum("ni,ij,nj->n", x, A, x)


def loss(x, A, b):
    q = bilinear(x, A)
    t = np.einsum("ii", A) + np.einsum("...i,i", x, b).sum()
    return np.sum(np.log1p(q**2)) + math.exp(-t * t)
'''


def test_einsum_in_a_module_as_users_write_it() -> None:
    rng = np.random.default_rng(5)
    args = [rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, 3)]
    forward, backward, _ = load(SOURCE)
    check_gradients(forward["loss"], backward["loss_backward"], args)
    check_split_style(SOURCE, "loss", forward["loss"], backward["loss_backward"], list(args))
    check_jvp(SOURCE, "loss", [tuple(args)])
    check_hvp(SOURCE, "loss", [tuple(args)])


def test_a_trace_gradient_is_the_identity_times_the_upstream() -> None:
    code = codegen.generate("import numpy as np\n\n\ndef f(x):\n    return np.einsum('ii->', x)\n")
    assert "np.eye(np.shape(x)[1])" in code  # x may be a list of lists: numpy is asked its shape
    code = codegen.generate("import numpy as np\n\n\ndef f(x: \"N N\"):\n    return np.einsum('ii->', x)\n")
    assert "np.eye(x.shape[1])" in code


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("np.einsum('ij,jk->ikk', x, x)", "repeated in the output"),
        ("np.einsum('ij->iz', x)", "in no operand"),
        ("np.einsum('i.j->ij', x)", "is not a term"),
        ("np.einsum('...i...->i', x)", "more than one"),
        ("np.einsum('ij,jk->ik', x)", "do not match the operands"),
    ],
)
def test_subscripts_numpy_refuses_are_refused_with_a_position(call: str, message: str) -> None:
    with pytest.raises(CodegenError, match=message) as caught:
        codegen.generate(f"import numpy as np\n\n\ndef f(x):\n    return {call}\n")
    assert (caught.value.line, caught.value.column) == (5, 12)


def test_the_operand_list_form_is_refused_at_its_operand() -> None:
    with pytest.raises(CodegenError, match="must not depend on a differentiated value") as caught:
        codegen.generate("import numpy as np\n\n\ndef f(x):\n    return np.einsum(x, [0, 1])\n")
    assert (caught.value.line, caught.value.column) == (5, 22)


# A labelled axis of size 1 broadcasts against the same label of another operand
# (numpy allows it): each operand's gradient has its own shape.
BROADCAST_LABELS = {
    "ij,ij->i, a column": ("ij,ij->i", [(3, 1), (3, 4)]),
    "ij,ij->i, a row": ("ij,ij->i", [(3, 4), (1, 4)]),
    "ij,ij->ij, both": ("ij,ij->ij", [(3, 1), (1, 4)]),
    "ij,ij implicit": ("ij,ij", [(1, 4), (3, 4)]),
    "ij,j->i": ("ij,j->i", [(3, 4), (1,)]),
    "i,i": ("i,i", [(1,), (4,)]),
    "ij,jk->ik": ("ij,jk->ik", [(3, 1), (4, 2)]),
    "...i,...i": ("...i,...i", [(2, 1, 3), (4, 1)]),
    "...i,...i->...": ("...i,...i->...", [(2, 1, 3), (4, 3)]),
    "i...,i...->i": ("i...,i...->i", [(1,), (3,)]),
    "i...,i...->...i": ("i...,i...->...i", [(1, 2), (3, 1)]),
    "three operands": ("ij,jk,ik->i", [(3, 1), (4, 2), (1, 2)]),
}


@pytest.mark.parametrize(("spec", "shapes"), BROADCAST_LABELS.values(), ids=BROADCAST_LABELS.keys())
def test_a_label_of_size_one_broadcasts(spec: str, shapes: list[tuple[int, ...]]) -> None:
    names = PARAMS[: len(shapes)]
    source = (
        "import math\n\nimport numpy as np\n\n\n"
        f"def f({', '.join(names)}):\n    out = np.einsum({spec!r}, {', '.join(names)})\n"
        "    return np.sin(out) + math.pi\n"
    )
    rng = np.random.default_rng(3)
    args = [rng.uniform(-1.0, 1.0, shape) for shape in shapes]
    forward, backward, code = load(source)
    gradients = backward["f_backward"](*args)
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)
    assert [np.shape(g) for g in gradients] == shapes, code
    check_gradients(forward["f"], backward["f_backward"], args)
    check_split_style(source, "f", forward["f"], backward["f_backward"], list(args))
    check_jvp(source, "f", [tuple(args)])
    check_hvp(source, "f", [tuple(args)])


# ---- a label two operands share: summed back only where its sizes may differ -----------

SHARED_LABEL = {
    # (parameters, call, arguments, whether the gradients must be summed back)
    "annotated alike": ('x: "N D", y: "N D"', 'np.einsum("ij,ij->i", x, y)', ((3, 4), (3, 4)), False),
    "one value and its tanh": ("x", 'np.einsum("ij,ij->i", x, np.tanh(x))', ((3, 4),), False),
    "a quadratic form": ('x: "N D", A: "D D"', 'np.einsum("ni,ij,nj->n", x, A, x)', ((3, 2), (2, 2)), False),
    "not annotated, a size 1": ("x, y", 'np.einsum("ij,ij->i", x, y)', ((3, 1), (3, 4)), True),
    "not annotated, alike": ("x, y", 'np.einsum("ij,ij->i", x, y)', ((3, 4), (3, 4)), True),
    "annotated a 1": ('x: "N 1", y: "N D"', 'np.einsum("ij,ij->ij", x, y)', ((3, 1), (3, 4)), True),
    "annotated apart": ('x: "M D", y: "N E"', 'np.einsum("ij,kj->ik", x, y)', ((3, 1), (2, 4)), True),
    "one operand annotated": ('x: "N D", y', 'np.einsum("ij,ij->j", x, y)', ((3, 4), (1, 4)), True),
}


@pytest.mark.parametrize(("params", "call", "shapes", "summed"), SHARED_LABEL.values(), ids=SHARED_LABEL.keys())
def test_a_shared_label_is_summed_back_only_where_it_may_broadcast(
    params: str, call: str, shapes: tuple[Any, ...], summed: bool
) -> None:
    source = f"import numpy as np\n\n\ndef f({params}):\n    return np.sum(np.sin({call}))\n"
    forward, backward, code = load(source)
    assert ("_unbroadcast(" in code) == summed, code
    rng = np.random.default_rng(11)
    args = [rng.uniform(-1, 1, shape) for shape in shapes]
    check_gradients(forward["f"], backward["f_backward"], args)
    check_split_style(source, "f", forward["f"], backward["f_backward"], list(args))
