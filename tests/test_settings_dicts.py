"""Dicts passed in: weights read as `params["W1"]` (not differentiated, refused in
wrt) and settings a layer writes into (`bn_param["running_mean"] = ...`), which
the split forward must write as the user's forward does (review r05, r09)."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, check_split_style, load

WEIGHTS = textwrap.dedent(
    """
    import numpy as np


    def two_layer(params, x):
        h = np.tanh(x @ params["W1"] + params["b1"])
        return np.sum(h @ params["W2"])
    """
)


def test_dict_of_weights_in_wrt_is_refused() -> None:
    with pytest.raises(codegen.CodegenError, match=r"5:15: .*params is a dict.*pass its entries as parameters"):
        codegen.generate(WEIGHTS, wrt=["params"])


def test_dict_of_weights_without_wrt_is_held_constant() -> None:
    forward, backward, code = load(WEIGHTS)
    assert "Held constant: params (a dict of settings)" in code
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4), "W2": rng.standard_normal((4, 2))}
    check_gradients(forward["two_layer"], backward["two_layer_backward"], [params, rng.standard_normal((2, 3))])


RUNNING = textwrap.dedent(
    """
    import numpy as np


    def batchnorm_forward(x, gamma, beta, bn_param):
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_mean"] = running_mean
        bn_param["count"] = bn_param.get("count", 0) + 1
        return out
    """
)


def test_split_forward_writes_into_the_settings_dict() -> None:
    forward, generated, _ = load(RUNNING, style="split")
    x = np.arange(6.0).reshape(3, 2) ** 1.5
    by_user: dict[str, Any] = {"momentum": 0.5}
    by_codegen: dict[str, Any] = {"momentum": 0.5}
    for _ in range(2):
        forward["batchnorm_forward"](x, 1.5, 0.2, by_user)
        generated["batchnorm_forward_forward"](x, 1.5, 0.2, by_codegen)
    assert by_codegen.keys() == by_user.keys() == {"momentum", "running_mean", "count"}
    for key, value in by_user.items():
        np.testing.assert_allclose(by_codegen[key], value)


READ_BACK = """import numpy as np


def f(x, p):
    p["m"] = np.tanh(x)
    return np.sum(p["m"] * x)
"""


def test_differentiated_value_read_back_from_settings_is_refused() -> None:
    with pytest.raises(codegen.CodegenError, match=r'6:19: .*p\["m"\] holds a differentiated value, read back'):
        codegen.generate(READ_BACK)


def test_settings_dict_layer_gradients() -> None:
    forward, backward, _ = load(RUNNING)
    rng = np.random.default_rng(1)
    args = [rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3), {"momentum": 0.5}]
    check_gradients(forward["batchnorm_forward"], backward["batchnorm_forward_backward"], args)
    check_split_style(RUNNING, "batchnorm_forward", forward["batchnorm_forward"], backward["batchnorm_forward_backward"], args)
