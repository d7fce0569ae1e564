"""print, logging and warnings.warn left in a forward function, as users leave them.

They are kept where they stand in the forward pass (the fused backward's forward
sweep, the split style's forward function, forward mode) and print the forward
values; the gradients are checked against central differences. Other expression
statements stay refused."""

from __future__ import annotations

import logging
import re
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_every_style, load, refusal

SOURCE = textwrap.dedent(
    """
    import logging
    import math
    import warnings

    import numpy as np

    logger = logging.getLogger("reports")


    def printed(x):
        y = np.sum(x**2)
        print("loss", y)
        return y


    def staged(x, w):
        h = np.tanh(x * w)
        logger.debug("h %s", h)
        logging.info("mean %s", np.mean(h))
        h = h * 2.0
        if np.sum(h) > 100:
            warnings.warn("large")
        s = 0.0
        for i in range(3):
            s = s + math.sin(np.sum(h) * i)
            print(i, s)
        print(f"h={h}")
        return s


    def scalar(a, b):
        c = math.exp(a) * b
        print("c", c, "a", a)
        logger.info("c=%s", c)
        c = c * c
        warnings.warn(f"c is {c}")
        return c + a


    def listed(v):
        t = 0.0
        for vi in v:
            t = t + vi * vi
            print(t)
        return t


    def _helper(v):
        print("helper got", v)
        return v * v


    def calls_helper(x):
        y = _helper(x) + 1.0
        print("sum", np.sum(y))
        return np.sum(y * x)
    """
).lstrip()

R = np.random.default_rng(5)
CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("printed", (R.normal(size=4),)),
    ("printed", (1.5,)),
    ("printed", (3,)),
    ("printed", (R.normal(size=(2, 3)),)),
    ("staged", (R.normal(size=3), R.normal(size=3))),
    ("staged", (0.4, 2)),
    ("staged", (R.normal(size=(2, 2)), 0.3)),
    ("scalar", (0.3, 1.2)),
    ("scalar", (1, 2)),
    ("listed", ([0.5, -1.0, 2.0],)),
    ("listed", ([1, 2],)),
    ("listed", (R.normal(size=3),)),
    ("calls_helper", (R.normal(size=3),)),
    ("calls_helper", (2.0,)),
]


def _ids() -> list[str]:
    return [f"{name}-{i}" for i, (name, _) in enumerate(CALLS)]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "args"), CALLS, ids=_ids())
def test_gradients_are_those_of_the_function_without_them(name: str, args: tuple[Any, ...]) -> None:
    check_every_style(SOURCE, name, args, {"mode": "hvp"})


def _run(source: str, **options: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(source, **options), "generated.py", "exec"), namespace)  # noqa: S102
    return namespace


def _printed(run: Any, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    run()
    return capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("name", "args"), CALLS, ids=_ids())
def test_every_style_prints_what_the_forward_prints(name: str, args: tuple[Any, ...], capsys: pytest.CaptureFixture[str]) -> None:
    forward, backward, _ = load(SOURCE)
    split, jvp = _run(SOURCE, style="split"), _run(SOURCE, mode="forward")
    want = _printed(lambda: forward[name](*args), capsys)
    assert want, "the case prints something"
    assert _printed(lambda: backward[f"{name}_backward"](*args), capsys) == want
    assert _printed(lambda: split[f"{name}_forward"](*args), capsys) == want
    _, cache = split[f"{name}_forward"](*args)
    capsys.readouterr()
    split[f"{name}_backward"](1.0, cache)
    assert capsys.readouterr().out == "", "the split backward prints nothing: the forward did"
    tangents = [np.ones(np.shape(a)) if not isinstance(a, list) else [1.0] * len(a) for a in args]
    assert _printed(lambda: jvp[f"{name}_jvp"](*args, *tangents), capsys) == want


def test_logging_and_warnings_keep_their_records(caplog: pytest.LogCaptureFixture) -> None:
    _, backward, code = load(SOURCE)
    assert 'logger = logging.getLogger("reports")' in code
    with caplog.at_level(logging.DEBUG), pytest.warns(UserWarning, match=r"c is 2.25"):
        backward["scalar_backward"](0.0, 1.5)
    assert [r.getMessage() for r in caplog.records if r.name == "reports"] == ["c=1.5"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        backward["staged_backward"](0.5, 0.5)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("h ") and messages[1] == f"mean {np.tanh(0.25)}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="large"):
            backward["staged_backward"](np.full(60, 2.0), 2.0)


def test_a_printed_intermediate_is_its_forward_value(capsys: pytest.CaptureFixture[str]) -> None:
    source = (
        "import numpy as np\n\n\ndef f(x):\n    y = x * 3.0\n    print(y)\n    y = np.tanh(y)\n"
        "    print(y)\n    return np.sum(y * y)\n"
    )
    _, backward, code = load(source)
    x = np.array([0.1, 0.2])
    capsys.readouterr()
    backward["f_backward"](x)
    assert capsys.readouterr().out == f"{x * 3.0}\n{np.tanh(x * 3.0)}\n"
    assert code.count("print(") == 2


def test_live_functions_keep_their_prints(capsys: pytest.CaptureFixture[str]) -> None:
    def loss(x):
        y = np.sum(x * x)
        print("loss", y)
        return y

    gradient = codegen.backward(loss)
    capsys.readouterr()
    np.testing.assert_allclose(gradient(np.array([1.0, 2.0])), [2.0, 4.0])
    assert capsys.readouterr().out == "loss 5.0\n"


REFUSED = [
    ("method-in-place", "import numpy as np\n\n\ndef f(x):\n    x.sort()\n    return np.sum(x)\n",
     r"5:5: .*expression statements are not supported \(only print, logging and warnings.warn calls"),
    ("own-function", "import numpy as np\n\n\ndef g(x):\n    return x\n\n\ndef f(x):\n    g(x)\n    return np.sum(x)\n",
     r"9:5: .*expression statements are not supported"),
    ("print-a-parameter", "def f(x, print):\n    print(x)\n    return x * 2.0\n", r"2:5: .*expression statements are not supported"),
    ("an-unknown-logger", "import numpy as np\n\nlog = object()\n\n\ndef f(x):\n    log.info(x)\n    return x * 2.0\n",
     r"7:5: .*expression statements are not supported"),
    ("logger-bound-twice",
     "import logging\n\nlog = logging.getLogger('a')\nlog = None\n\n\ndef f(x):\n    log.info(x)\n    return x * 2.0\n",
     r"8:5: .*expression statements are not supported"),
    ("print-kept-as-a-value", "def f(x):\n    y = print(x)\n    return x * 2.0\n", r"2:\d+: .*print"),
]


@pytest.mark.parametrize(("source", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_other_expression_statements_stay_refused(source: str, message: str) -> None:
    assert re.search(message, refusal(source))
