"""A top-level name bound to a function (`ACT = relu`, `ACT = np.tanh`) is that
function: differentiated as a call of it, and never copied into an output that
does not define the function."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, check_split_style, load
from tests.test_forward_mode import check_jvp
from tests.test_hvp import check_hvp

LAYERS = '''\
import math

import numpy as np


def relu(z):
    return np.maximum(z, 0)


def tanh(z):
    return np.tanh(z)


ACT = relu
OUT_ACT = tanh
LAST = OUT_ACT
SQRT = math.sqrt
SIN = np.sin


def layer(x, w, b=0.5):
    m = ACT(b)
    h = ACT(x @ w) + m
    return np.sum(LAST(h)) * SQRT(2.0 + np.sum(SIN(w) ** 2))


def scalar(x, y):
    return SQRT(x * x + y * y) + OUT_ACT(x * y)
'''


def _args(name: str) -> list[Any]:
    rng = np.random.default_rng(7)
    if name == "layer":
        return [rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3, 2))]
    return [0.7, -1.3]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["layer", "scalar"])
def test_a_function_bound_to_a_name_is_differentiated_as_that_function(name: str) -> None:
    forward, backward, code = load(LAYERS)
    check_gradients(forward[name], backward[f"{name}_backward"], _args(name))
    check_split_style(LAYERS, name, forward[name], backward[f"{name}_backward"], _args(name))
    check_jvp(LAYERS, name, [tuple(_args(name))])
    check_hvp(LAYERS, name, [tuple(_args(name))])


@pytest.mark.parametrize("options", [{}, {"style": "split"}, {"mode": "forward"}, {"mode": "hvp"}], ids=str)
def test_the_output_copies_no_name_it_does_not_define(options: dict[str, str]) -> None:
    code = codegen.generate(LAYERS, functions=["layer"], **options)
    for name in ("ACT", "OUT_ACT", "LAST", "SQRT", "SIN"):
        assert f"{name} = " not in code
    exec(compile(code, "out.py", "exec"), {})  # importing it defines everything it reads


def test_a_local_binding_of_the_name_is_the_local_value() -> None:
    source = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0)


ACT = relu


def f(x, ACT=2.0):
    return np.sum(x * ACT)


def g(x):
    ACT = np.exp
    return np.sum(ACT(x))
'''
    forward, backward, _ = load(source)
    x = np.random.default_rng(0).uniform(-1, 1, 3)
    check_gradients(forward["f"], backward["f_backward"], [x])
    check_gradients(forward["g"], backward["g_backward"], [x])


def test_a_name_bound_twice_at_the_top_is_not_taken_for_a_function() -> None:
    source = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0)


ACT = relu
ACT = np.tanh


def f(x):
    return np.sum(ACT(x))
'''
    with pytest.raises(codegen.CodegenError, match="ACT"):
        codegen.generate(source)


def test_a_function_with_a_hand_written_rule_keeps_its_rule() -> None:
    source = '''\
import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))


def softplus_backward(x, dout):
    return dout / (1 + np.exp(-x))


ACT = softplus


def f(x):
    return np.sum(ACT(x) ** 2)
'''
    code = codegen.generate(source, filename="model.py")
    assert "softplus_backward(x, " in code and "ACT = " not in code
