"""Type annotations: a fully typed input gives a backward mypy --strict accepts.

mypy on the outputs of the untyped examples reports nothing it does not report
on the inputs; on a fully typed module it reports nothing at all, in strict
mode. The annotations are those of the input: each gradient has its
parameter's type, each upstream gradient its output's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, load

EXAMPLES = Path(__file__).parent.parent / "examples"

TYPED = '''\
import math

import numpy as np
from numpy.typing import NDArray


def f(x: float, y: float) -> float:
    a = x * y
    return math.exp(a) + math.lgamma(y)


def pair(x: float) -> tuple[float, float]:
    return x * x, math.sin(x)


def neuron(w: list[float], x: list[float]) -> float:
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1 + math.exp(-dot))


def power(x: float, n: int) -> float:
    p = 1.0
    for i in range(n):
        p = p * x
    return p


def affine(x: NDArray[np.float64], w: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = x @ w + b
    return out


def rnn(x: NDArray[np.float64], h0: NDArray[np.float64], W: NDArray[np.float64]) -> NDArray[np.float64]:
    h = h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t, :] + h @ W)
    return h


def loss(x: NDArray[np.float64], w: NDArray[np.float64], reg: float = 0.1) -> float:
    s = x @ w
    return float(np.sum(s * s)) + reg * float(np.sum(w * w))


def scaled(x: NDArray[np.float64], scale: float = 2.0) -> NDArray[np.float64]:
    return np.tanh(x) * scale


def layer(
    x: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    out = np.tanh(x @ w)
    cache = (x, w)
    return out, cache
'''


def mypy(tmp_path: Path, files: dict[str, str], *flags: str) -> dict[str, list[str]]:
    """mypy's error codes per file (one run, its cache in `tmp_path`)."""
    pytest.importorskip("mypy")
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary",
         "--show-error-codes", "--hide-error-context", *flags, *paths],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr + result.stdout
    found: dict[str, list[str]] = {name: [] for name in files}
    for line in result.stdout.splitlines():
        match = re.match(r"(?:.*[/\\])?([^/\\:]+\.py):\d+: error: .*\[([\w-]+)\]$", line)
        if match:
            found[match.group(1)].append(match.group(2))
    return found


def flat(code: str) -> str:
    """`code` on one line, as if black had not split its signatures."""
    return re.sub(r",?\s*\)", ")", re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", code)))


def test_a_fully_typed_input_keeps_its_types() -> None:
    code = flat(codegen.generate(TYPED))
    assert "def f_backward(x: float, y: float, dout: float = 1.0) -> tuple[float, float]:" in code
    assert "def pair_backward(x: float, dout1: float = 1.0, dout2: float = 1.0) -> float:" in code
    assert "def power_backward(x: float, n: int, dp: float = 1.0) -> float:" in code
    # an array's upstream has no default (1.0 is not an array) unless Python needs one
    array = "NDArray[np.float64]"
    assert f"b: {array}, dout: {array}) -> tuple[{array}, {array}, {array}]:" in code
    assert f"def scaled_backward(x: {array}, scale: float = 2.0, dout: {array} | float = 1.0) -> {array}:" in code
    assert "def _digamma(x: float) -> float:" in code and "def _unbroadcast(grad: Any, like: Any) -> Any:" in code
    assert "import math from typing import Any import numpy as np" in code
    value = flat(codegen.generate(TYPED, return_value=True, functions=["f", "neuron"]))
    assert "dout: float = 1.0) -> tuple[float, tuple[float, float]]:" in value
    assert "x: list[float], dout: float = 1.0) -> tuple[float, tuple[list[float], list[float]]]:" in value


def test_typed_gradients_are_right() -> None:
    forward, backward, _ = load(TYPED)
    rng = np.random.default_rng(3)
    check_gradients(forward["f"], backward["f_backward"], [0.7, 1.3])
    check_gradients(forward["neuron"], backward["neuron_backward"], [[0.3, -0.2, 0.1], [1.5, 0.5]])
    check_gradients(forward["power"], backward["power_backward"], [1.1, 3])
    args = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4)), 0.5 * rng.normal(size=(4, 4))]
    dh0 = backward["rnn_backward"](*args, np.ones((2, 4)))[1]
    assert np.allclose(dh0, backward["rnn_backward"](*args, dh=np.ones((2, 4)))[1])


def test_an_untyped_or_shape_annotated_input_gets_no_types() -> None:
    assert "->" not in codegen.generate("def f(x, y):\n    return x * y\n")
    code = codegen.generate('import numpy as np\n\n\ndef f(x: "N D") -> float:\n    return float(np.sum(x))\n')
    assert "->" not in code and "dout=1.0" in code


def test_mypy_strict_accepts_the_backward_of_a_typed_module(tmp_path: Path) -> None:
    files = {"typed.py": TYPED}
    modes = {"fused": {}, "value": {"return_value": True}, "split": {"style": "split"}, "jvp": {"mode": "forward"}, "hvp": {"mode": "hvp"}}
    for name, options in modes.items():
        files[f"typed_{name}.py"] = codegen.generate(TYPED, filename="typed.py", **options)  # type: ignore[arg-type]
    found = mypy(tmp_path, files, "--strict")
    assert not {name: codes for name, codes in found.items() if codes}


def test_mypy_reports_nothing_on_an_example_output_it_does_not_report_on_its_input(tmp_path: Path) -> None:
    files: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.py")):
        if not path.stem.endswith("_backward"):
            files[path.name] = path.read_text(encoding="utf-8")
            files[f"{path.stem}_backward.py"] = (EXAMPLES / f"{path.stem}_backward.py").read_text(encoding="utf-8")
    found = mypy(tmp_path, files)
    extra = {
        name: sorted(set(codes) - set(found[name.replace("_backward", "")]))
        for name, codes in found.items()
        if name.endswith("_backward.py") and set(codes) - set(found[name.replace("_backward", "")])
    }
    assert not extra


def test_split_and_forward_mode_of_a_typed_input_are_typed() -> None:
    array = "NDArray[np.float64]"
    split = re.sub(r",?\s*\]", "]", re.sub(r"\[\s+", "[", flat(codegen.generate(TYPED, style="split"))))
    # a cached parameter keeps its type; an intermediate is Any (exp_a)
    assert "def f_forward(x: float, y: float) -> tuple[float, tuple[float, Any, float]]:" in split
    assert "def f_backward(dout: float, cache: tuple[float, Any, float]) -> tuple[float, float]:" in split
    assert "def pair_backward(dout1: float, dout2: float, cache: tuple[float]) -> float:" in split
    # a gradient computed from a cached Any is declared with its parameter's type
    assert f"def scaled_backward(dout: {array}, cache: tuple[float, Any]) -> {array}:" in split
    assert f"dx: {array} = (1 - tanh_x**2) * dtanh_x" in split
    jvp = flat(codegen.generate(TYPED, mode="forward"))
    assert "def f_jvp(x: float, y: float, x_dot: float, y_dot: float) -> tuple[float, float]:" in jvp
    assert "def pair_jvp(x: float, x_dot: float) -> tuple[tuple[float, float], tuple[float, float]]:" in jvp
    assert f"b_dot: {array}) -> tuple[{array}, {array}]:" in jvp
    # a returned cache takes no upstream and has no tangent
    cache = f"tuple[{array}, {array}]"
    assert f"def layer_forward(x: {array}, w: {array}) -> tuple[{array}, {cache}, tuple[" in split
    assert f"def layer_backward(dout: {array}, cache: tuple[" in split
    brackets = re.sub(r",?\s*\]", "]", re.sub(r"\[\s+", "[", jvp))
    assert f"w_dot: {array}) -> tuple[tuple[{array}, {cache}], tuple[{array}, None]]:" in brackets
    fused = flat(codegen.generate(TYPED))
    assert f"def layer_backward(x: {array}, w: {array}, dout: {array}) -> tuple[{array}, {array}]:" in fused


def test_typed_split_and_forward_mode_are_right() -> None:
    forward, split, _ = load(TYPED, style="split")
    eps = 1e-6
    out, cache = split["f_forward"](0.7, 1.3)
    dx, dy = split["f_backward"](0.5, cache)
    assert out == forward["f"](0.7, 1.3)
    assert np.isclose(dx, 0.5 * (forward["f"](0.7 + eps, 1.3) - forward["f"](0.7 - eps, 1.3)) / (2 * eps))
    assert np.isclose(dy, 0.5 * (forward["f"](0.7, 1.3 + eps) - forward["f"](0.7, 1.3 - eps)) / (2 * eps))
    rng = np.random.default_rng(5)
    x, v, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    _, cache = split["scaled_forward"](x)
    along = np.sum(split["scaled_backward"](g, cache) * v)
    numeric = np.sum(g * (forward["scaled"](x + eps * v) - forward["scaled"](x - eps * v))) / (2 * eps)
    assert np.isclose(along, numeric)
    _, jvp, _ = load(TYPED, mode="forward")
    value, tangent = jvp["scaled_jvp"](x, v)
    numeric_tangent = (forward["scaled"](x + eps * v) - forward["scaled"](x - eps * v)) / (2 * eps)
    assert np.allclose(value, forward["scaled"](x)) and np.allclose(tangent, numeric_tangent, atol=1e-7)


def test_an_hvp_of_a_typed_input_is_typed_in_its_usual_order() -> None:
    """The vectors have their parameters' types and come before the upstream
    gradients, as in an untyped HVP (a typed array upstream has no default). A
    product whose parameter is a number or a list is `Any`: its zero seed
    makes it an array."""
    array = "NDArray[np.float64]"
    hvp = flat(codegen.generate(TYPED, mode="hvp", functions=["affine", "f", "scaled"]))
    assert f"x_dot: {array}, w_dot: {array}, b_dot: {array}, dout: {array}) -> tuple[{array}, {array}, {array}]:" in hvp
    assert "def f_hvp(x: float, y: float, x_dot: float, y_dot: float, dout: float = 1.0) -> tuple[Any, Any]:" in hvp
    assert f"x_dot: {array}, scale: float = 2.0, dout: {array} | float = 1.0) -> {array}:" in hvp
    assert f"dout_1: {array} | float if np.ndim(dout) == 0:" in hvp  # declared: the branches' types differ
    untyped = flat(codegen.generate(TYPED.replace(" -> NDArray[np.float64]:", ":"), mode="hvp", functions=["affine"]))
    assert "x_dot, w_dot, b_dot, dout=1.0):" in untyped and "Any" not in untyped


def test_typed_hvps_are_right() -> None:
    forward, typed_hvp, _ = load(TYPED, mode="hvp", functions=["scaled", "f"])
    _, plain, _ = load(TYPED.replace("-> float:", ":").replace("-> NDArray[np.float64]:", ":"), mode="hvp", functions=["scaled", "f"])
    rng = np.random.default_rng(7)
    x, v, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    assert np.allclose(typed_hvp["scaled_hvp"](x, v, 2.0, g), plain["scaled_hvp"](x, v, 2.0, g))
    _, backward, _ = load(TYPED, functions=["scaled"])
    eps = 1e-6
    numeric = (backward["scaled_backward"](x + eps * v, 2.0, g) - backward["scaled_backward"](x - eps * v, 2.0, g)) / (2 * eps)
    assert np.allclose(typed_hvp["scaled_hvp"](x, v, 2.0, g), numeric, atol=1e-6)
    assert np.allclose(typed_hvp["f_hvp"](0.7, 1.3, 0.2, -0.4), plain["f_hvp"](0.7, 1.3, 0.2, -0.4))
