"""Fitting into training code: split style, value and gradient, user rules, gradcheck."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, load, upstream_for, upstream_kwargs
from tests.test_examples import ARGS, EXAMPLES, forward_files


def _as_tuple(value: Any, count: int) -> tuple[Any, ...]:
    return tuple(value) if count > 1 else (value,)


@pytest.mark.parametrize("path", forward_files(), ids=lambda p: p.stem)
def test_split_style_matches_fused(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    name, calls = ARGS[path.stem]
    forward, fused, _ = load(source, path.name)
    split_code = codegen.generate(source, filename=path.name, style="split")
    split: dict[str, Any] = {}
    exec(compile(split_code, "split", "exec"), split)
    for args in calls:
        outputs = forward[name](*args)
        weights = upstream_for(outputs, np.random.default_rng(2))
        expected = fused[f"{name}_backward"](*args, **upstream_kwargs(forward[name], fused[f"{name}_backward"], weights))
        result = split[f"{name}_forward"](*args)
        *values, cache = result
        count = len(weights)
        np.testing.assert_allclose(
            np.asarray(values[0] if count == 1 else values, dtype=float), np.asarray(outputs, dtype=float)
        )
        got = split[f"{name}_backward"](*weights, cache)
        for a, b in zip(_as_tuple(got, 2 if isinstance(expected, tuple) else 1), _as_tuple(expected, 2 if isinstance(expected, tuple) else 1)):
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-12)


def test_split_cache_holds_only_what_the_backward_reads() -> None:
    source = "import numpy as np\n\n\ndef layer(x, w):\n    n = x.shape[0]\n    h = np.tanh(x @ w)\n    return np.sum(h) / n\n"
    code = codegen.generate(source, style="split")
    assert "cache = (h, x, w)" in code
    assert "n = x.shape[0]" in code.split("def layer_backward", 1)[1], "cheap shape arithmetic is recomputed"


# The cs231n assignments' caches: affine (x, w, b); batchnorm's staged derivation
# (xhat, gamma, xmu, ivar, sqrtvar, var, eps).
TEXTBOOK_CACHE = {"affine": 3, "batchnorm": 7}


@pytest.mark.parametrize("stem", sorted(TEXTBOOK_CACHE))
def test_split_cache_is_no_bigger_than_the_textbook_one(stem: str) -> None:
    path = Path(__file__).parents[1] / "examples" / f"{stem}.py"
    code = codegen.generate(path.read_text(encoding="utf-8"), filename=path.name, style="split")
    namespace: dict[str, Any] = {}
    exec(compile(code, "split", "exec"), namespace)
    name, calls = ARGS[stem]
    _, cache = namespace[f"{name}_forward"](*calls[0])
    assert len(cache) <= TEXTBOOK_CACHE[stem]


def test_views_are_recomputed_not_cached() -> None:
    source = "import numpy as np\n\n\ndef layer(x, w):\n    n = x.shape[0]\n    flat = x.reshape(n, -1)\n    return np.sum(np.tanh(flat @ w))\n"
    code = codegen.generate(source, style="split")
    backward = code.split("def layer_backward", 1)[1]
    assert "flat = x.reshape(n, -1)" in backward and "n = x.shape[0]" in backward
    assert "cache = (tanh_flat_dot_w, w, x)" in code


def test_return_value_returns_value_and_gradients() -> None:
    source = "def power(x, n: int):\n    p = 1.0\n    for i in range(n):\n        p = p * x\n    return p\n"
    namespace: dict[str, Any] = {}
    exec(codegen.generate(source, return_value=True), namespace)
    value, dx = namespace["power_backward"](1.5, 3)
    assert value == pytest.approx(1.5**3)
    assert dx == pytest.approx(3 * 1.5**2)


USER_RULE = '''
import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))


def softplus_backward(x, dout):
    return dout / (1 + np.exp(-x))


def loss(w, X):
    h = softplus(X @ w)
    total = 0.0
    for i in range(3):
        total = total + np.sum(softplus(h * (i + 1)))
    return total
'''


def test_user_rule_is_called_and_imported(tmp_path: Path) -> None:
    module = tmp_path / "layers.py"
    module.write_text(USER_RULE)
    code = codegen.generate(USER_RULE, filename=str(module))
    assert "def softplus_backward" not in code
    assert "from layers import softplus, softplus_backward" in code
    assert code.count("softplus_backward(") == 2
    (tmp_path / "layers_backward.py").write_text(code)
    sys.path.insert(0, str(tmp_path))
    try:
        import layers
        import layers_backward

        rng = np.random.default_rng(0)
        w, X = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
        assert codegen.gradcheck(layers.loss, w, X) < 1e-6
        dw, dX = layers_backward.loss_backward(w, X)
        assert dw.shape == w.shape and dX.shape == X.shape
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("layers", None)
        sys.modules.pop("layers_backward", None)


def test_gradcheck_catches_a_wrong_rule(tmp_path: Path) -> None:
    wrong = USER_RULE.replace("return dout / (1 + np.exp(-x))", "return 2 * dout / (1 + np.exp(-x))")
    (tmp_path / "wrong_layers.py").write_text(wrong)
    sys.path.insert(0, str(tmp_path))
    try:
        import wrong_layers

        rng = np.random.default_rng(0)
        with pytest.raises(codegen.GradientMismatch, match="disagrees with central differences"):
            codegen.gradcheck(wrong_layers.loss, rng.normal(size=(3, 2)), rng.normal(size=(4, 3)))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("wrong_layers", None)


def test_gradcheck_passes_on_examples() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import staged_f

        assert codegen.gradcheck(staged_f.f, 3.0, -4.0) < 1e-6
    finally:
        sys.path.remove(str(EXAMPLES))
        sys.modules.pop("staged_f", None)


def test_cli_style_and_return_value_flags(tmp_path: Path) -> None:
    import subprocess

    source = tmp_path / "layer.py"
    source.write_text("import numpy as np\n\n\ndef layer(x, w):\n    return np.sum(np.tanh(x * w))\n")
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "--style", "split", str(source)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    code = (tmp_path / "layer_backward.py").read_text()
    assert "def layer_forward(x, w):" in code and "def layer_backward(dout, cache):" in code
    (tmp_path / "pyproject.toml").write_text('[tool.codegen]\nreturn-value = true\n')
    (tmp_path / ".git").mkdir()
    run = subprocess.run([sys.executable, "-m", "codegen", str(source)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "return out, (dx, dw)" in (tmp_path / "layer_backward.py").read_text()


def test_asserts_in_the_forward_are_kept_and_checked() -> None:
    source = (
        "import numpy as np\n\n\ndef layer(x, w):\n    n, d = x.shape\n"
        '    assert w.shape[0] == d, f"w has {w.shape[0]} rows, expected {d}"\n'
        "    h = np.tanh(x @ w)\n    return np.sum(h) / n\n"
    )
    forward, backward, code = load(source)
    assert 'assert w.shape[0] == d, f"w has {w.shape[0]} rows, expected {d}"' in code
    x, w = np.ones((3, 4)) * 0.1, np.ones((4, 2)) * 0.2
    check_gradients(forward["layer"], backward["layer_backward"], [x, w])
    with pytest.raises(AssertionError, match="w has 3 rows, expected 4"):
        backward["layer_backward"](x, np.ones((3, 2)))
    split = codegen.generate(source, style="split")
    assert "cache = (h, x, w)" in split, "n, d = x.shape is recomputed, not cached"
    again = codegen.generate(code, allow_generated=True)  # still inside the subset
    assert "def layer_backward_backward(" in again
