"""A parameter whose only evidence is a number default (`eps=1e-5`) is taken to be a
number: nothing it broadcasts is summed back, the docstring says so in one line,
and the output asserts it, so an array passed for it fails loudly (before, some
such arrays gave gradients of the wrong shape or value, silently)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, load

EXAMPLES = Path(__file__).parent.parent / "examples"
RNG = np.random.default_rng(0)


def normal(*shape: int) -> Any:
    return RNG.normal(size=shape)


def positive(*shape: int) -> Any:
    return RNG.uniform(0.5, 1.0, size=shape)


# id: (source, function, arguments with an array where a default is a number, the
# same arguments with a number there). With the array, the backward these once
# generated returned a wrong gradient without an error.
PASSED_AN_ARRAY: dict[str, tuple[str, str, Callable[[], list[Any]], Callable[[], list[Any]]]] = {
    "layernorm-eps-of-the-input-shape": (
        (EXAMPLES / "layernorm.py").read_text(encoding="utf-8"),
        "layernorm",
        lambda: [normal(3, 4), normal(4), normal(4), positive(3, 4)],
        lambda: [normal(3, 4), normal(4), normal(4), 1e-5],
    ),
    "scale-broadcasting-a-vector-up": (
        "import numpy as np\n\n\ndef f(x, s=2.0):\n    return np.sum(np.tanh(x * s))\n",
        "f",
        lambda: [normal(4), positive(3, 4)],
        lambda: [normal(4), 0.5],
    ),
    "scale-of-a-scalar-function-beside-numpy": (
        "import math\nimport numpy as np\n\n\ndef f(x, s=2.0):\n    return math.tanh(x) * s\n",
        "f",
        lambda: [0.3, positive(3)],
        lambda: [0.3, 1.5],
    ),
    "negative-default": (
        "import numpy as np\n\n\ndef f(x, t=-1):\n    return np.sum(np.sin(x) * t)\n",
        "f",
        lambda: [normal(4), normal(2, 4)],
        lambda: [normal(4), 3],
    ),
}


@pytest.mark.parametrize("case", PASSED_AN_ARRAY.values(), ids=PASSED_AN_ARRAY.keys())
def test_an_array_for_a_parameter_taken_to_be_a_number_fails_loudly(case: tuple[Any, ...]) -> None:
    source, name, with_array, with_number = case
    forward, backward, code = load(source)
    check_gradients(forward[name], backward[f"{name}_backward"], with_number())
    args = with_array()
    forward[name](*args)  # the forward accepts it
    with pytest.raises(AssertionError, match=r"is taken to be a number \(its default\)"):
        backward[f"{name}_backward"](*args)
    split: dict[str, Any] = {}
    exec(compile(codegen.generate(source, style="split"), "split.py", "exec"), split)
    with pytest.raises(AssertionError, match=r"is taken to be a number \(its default\)"):
        split[f"{name}_forward"](*args)


def test_the_hessian_vector_product_checks_it_too() -> None:
    source = PASSED_AN_ARRAY["layernorm-eps-of-the-input-shape"][0]
    namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(source, mode="hvp"), "hvp.py", "exec"), namespace)
    x, gamma, beta = normal(3, 4), normal(4), normal(4)
    with pytest.raises(AssertionError, match="eps is taken to be a number"):
        namespace["layernorm_hvp"](x, gamma, beta, normal(3, 4), normal(4), normal(4), eps=positive(3, 4))


def test_the_docstring_says_so_and_nothing_is_summed_back() -> None:
    code = codegen.generate((EXAMPLES / "batchnorm.py").read_text(encoding="utf-8"))
    assert "    eps is taken to be a number (its default): annotate it to pass an array.\n" in code
    assert '    assert np.ndim(eps) == 0, "eps is taken to be a number (its default)"\n' in code
    assert "_unbroadcast" not in code
    two = codegen.generate("import numpy as np\n\n\ndef f(x, s=2.0, t=-1.0):\n    return np.sum(x * s + t * x)\n")
    assert "s, t are taken to be numbers (their defaults): annotate one to pass an array." in two
    assert two.count("assert np.ndim(") == 2


def test_an_annotated_parameter_may_be_an_array_whatever_its_default() -> None:
    source = (EXAMPLES / "layernorm.py").read_text(encoding="utf-8").replace("eps=1e-5", "eps: np.ndarray = 1e-5")
    forward, backward, code = load(source)
    assert "taken to be a number" not in code
    check_gradients(forward["layernorm"], backward["layernorm_backward"], [normal(3, 4), normal(4), normal(4), positive(3, 4)])


@pytest.mark.parametrize(
    "source",
    [
        # other evidence wins over the default: `g @ w.T` proves g an array ...
        'import numpy as np\n\n\ndef f(x: "N D", w: "D M", g=1.0):\n    return np.sum((g @ w.T) * x)\n',
        # ... and math.exp(alpha) a number (an array fails there by itself)
        "import math\nimport numpy as np\n\n\ndef f(x, alpha=0.5):\n    return np.sum(x) * math.exp(alpha)\n",
        # a default the backward never reads assumes nothing
        "import numpy as np\n\n\ndef f(x, unused=1.0):\n    return np.sum(x * x)\n",
        # without numpy, every unknown value is a number: nothing to check
        "import math\n\n\ndef f(x, s=2.0):\n    return math.tanh(x) * s\n",
    ],
    ids=["proved-an-array", "proved-a-number", "never-read", "math-only-module"],
)
def test_no_check_where_the_default_is_not_the_only_evidence(source: str) -> None:
    code = codegen.generate(source, wrt=["x"] if "g=1.0" in source else None)
    assert "taken to be a number" not in code and "assert" not in code


def test_a_differentiated_parameter_with_a_number_default() -> None:
    source = "import numpy as np\n\n\ndef f(x, s=2.0):\n    return np.sum(np.tanh(x * s))\n"
    forward, backward, code = load(source, wrt=["x", "s"])
    assert "assert np.ndim(s) == 0" in code
    check_gradients(forward["f"], backward["f_backward"], [normal(4), 0.7])
