"""Random draws in the forward, as the random program suites write them: drawn
once, named, and reused; checked with the generators seeded (tests.support.seeded),
which is how the suites compare a forward, its central differences and a backward
that runs the forward again. These tests also show that check fails when a
backward draws anew."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load, seeded

HELPER_IN_A_LOOP = '''\
import math as m
import random


def _h(u, v):
    if v < 0.3:
        v = -(u / 3.0) * random.random()
    return v + random.gauss(0.0, 0.5)


def f(z, w):
    i0 = 0
    while i0 < 3:
        z = _h(m.tanh(z), w)
        i0 += 1
    return z
'''

NOISE = '''\
import numpy as np


def f(x, w):
    z = x @ w
    noise = np.random.randn(*z.shape)
    h = np.tanh(z) * np.random.rand() + 0.1 * noise
    return np.sum(h**2)
'''


def test_a_draw_in_an_inlined_helper_does_not_hide_the_module_it_draws_from() -> None:
    # The draw was named `random`, the module it calls: UnboundLocalError in a loop.
    forward, backward, code = load(HELPER_IN_A_LOOP)
    assert "random = random." not in code
    check_gradients(seeded(forward["f"]), seeded(backward["f_backward"]), [0.4, -0.2])


@pytest.mark.parametrize("source", [HELPER_IN_A_LOOP, NOISE], ids=["python-random", "numpy-random"])
def test_seeded_draws_in_every_style(source: str) -> None:
    rng = np.random.default_rng(3)
    args: list[Any] = [0.4, 0.1] if "math" in source else [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3, 2))]
    forward, backward, _ = load(source)
    f, f_backward = seeded(forward["f"]), seeded(backward["f_backward"])
    check_gradients(f, f_backward, args)
    check_split_style(source, "f", f, f_backward, args, seeded)
    check_forward_mode(source, "f", f, f_backward, args, seeded)


def test_the_seeded_check_fails_on_a_backward_that_draws_again() -> None:
    forward, _, code = load(NOISE)
    assert "rand * " in code or "* rand" in code
    redrawn = code.replace("rand * ", "np.random.rand() * ").replace("* rand\n", "* np.random.rand()\n")
    assert redrawn != code
    namespace: dict[str, Any] = {}
    exec(compile(redrawn, "redrawn", "exec"), namespace)
    rng = np.random.default_rng(3)
    args = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3, 2))]
    with pytest.raises(AssertionError, match="relative error"):
        check_gradients(seeded(forward["f"]), seeded(namespace["f_backward"]), args)


def test_a_python_random_number_is_a_number_in_a_numpy_module() -> None:
    source = "import random\n\n\ndef f(u: float):\n    return u * random.random()\n"
    plain = codegen.generate(source)
    with_numpy = codegen.generate("import numpy as np\n" + source)
    assert plain.split("def f_backward")[1] == with_numpy.split("def f_backward")[1]


UNUSED_DRAW = '''\
import numpy


def f(y, v, c=0.5):
    u = numpy.add(c, y) * numpy.random.uniform(-1.0, 1.0, size=(2, 1))
    return numpy.minimum(c, v[-2]) * numpy.random.rand()
'''


@pytest.mark.parametrize("mode", ["reverse", "forward", "hvp"])
def test_a_draw_nothing_reads_still_moves_the_generator_on(mode: str) -> None:
    # Pruned, it shifted the later draw: the seeded backward saw another np.random.rand().
    code = codegen.generate(UNUSED_DRAW, mode=mode)
    assert "    numpy.random.uniform(-1.0, 1.0, size=(2, 1))\n" in code
    forward, backward, _ = load(UNUSED_DRAW)
    args = [np.array([[0.3], [-0.2]]), [0.1, 0.2, 0.9], 0.5]
    check_gradients(seeded(forward["f"]), seeded(backward["f_backward"]), args)
    check_forward_mode(UNUSED_DRAW, "f", seeded(forward["f"]), seeded(backward["f_backward"]), args, seeded)


def test_a_fused_backward_says_it_draws_again_and_split_style_keeps_the_draw() -> None:
    """Dropout as users write it: the fused backward runs the forward pass, so its mask
    is a second draw unless the generator is in the forward call's state; the docstring
    says so. Split style's backward reads the forward's mask from the cache."""
    source = "import numpy as np\n\n\ndef dropout(x, p):\n    mask = (np.random.rand(*x.shape) < p) / p\n    return x * mask\n"
    _, backward, code = load(source, wrt=["x"])
    doc = " ".join((backward["dropout_backward"].__doc__ or "").split())
    assert "draws rand again" in doc and "split style" in doc, doc
    namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(source, wrt=["x"], style="split"), "split", "exec"), namespace)
    split_doc = " ".join((namespace["dropout_backward"].__doc__ or "").split())
    assert "again" not in split_doc, split_doc
    np.random.seed(1)
    x = np.linspace(-1.0, 1.0, 8)
    out, cache = namespace["dropout_forward"](x, 0.5)
    np.random.rand(8)  # the generator moves on: the cache, not a new draw, holds the mask
    np.testing.assert_array_equal(namespace["dropout_backward"](np.ones(8), cache), out / x)  # x has no zero
