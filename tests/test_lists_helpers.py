"""Lists built with `append` and local helper functions, as people write them.

A list of values appended in a loop (`out = []`, `out.append(v)`) and then
stacked, summed or indexed is differentiated in reverse mode, fused and split,
and in forward mode: its gradient is a list (`dout`), one entry per append,
popped as the backward undoes each append. Every gradient is checked against
central differences; the constructs still refused name themselves, their
position and the rewrite that works.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load

RNG = np.random.default_rng(17)

LISTS = '''
import math
import numpy as np


def conv1d_loss(x, w, k):
    out = []
    for i in range(len(x) - k + 1):
        out.append(np.sum(x[i:i + k] * w))
    return np.sum(np.array(out) ** 2)


def rnn_states(x, W, h0, T):
    hs = []
    h = h0
    for t in range(T):
        h = np.tanh(W @ h + x[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H * H) + np.sum(hs[0] * hs[-1])


def columns(x, w, n):
    cols = []
    for j in range(n):
        cols.append(x * w[j])
    return np.sum(np.stack(cols, axis=1) ** 3)


def pieces(x, w):
    parts = []
    for i in range(3):
        parts.append(np.tanh(x[i:] * w))
    return np.sum(np.concatenate(parts) ** 2)


def scalar_terms(a, b, n):
    terms = []
    for i in range(n):
        terms.append(math.sin(a * i) * b)
    return sum(terms) + terms[0] * terms[-1]


def numpy_of_list(x, n):
    res = []
    for i in range(n):
        res.append(x * (i + 1.0))
    return np.sum(res) + np.mean(np.tanh(res))


def integrate(x0, k, steps):
    xs = [x0]
    for s in range(steps):
        xs.append(xs[-1] + 0.1 * math.sin(k * xs[-1]))
    return xs[-1] ** 2 + sum(xs)


def leaky(x, w):
    kept = []
    for i in range(len(x)):
        v = x[i] * w
        if v > 0:
            kept.append(v)
        else:
            kept.append(0.1 * v)
    return np.sum(np.array(kept) ** 2)


def outer_rows(x, w):
    rows = []
    for i in range(len(x)):
        row = []
        for j in range(len(w)):
            row.append(x[i] * w[j])
        rows.append(np.array(row))
    return np.sum(np.tanh(np.array(rows)))


def _window(x, w, i, k):
    return np.sum(x[i:i + k] * w)


def conv_with_helper(x, w, k):
    out = []
    for i in range(len(x) - k + 1):
        out.append(_window(x, w, i, k))
    return np.sum(np.array(out) ** 2)


def running(x, n):
    acc = []
    total = 0.0
    for i in range(n):
        total = total + x[i] * x[i]
        acc.append(total)
    for r in acc:
        total = total + math.sqrt(r + 1.0)
    return total + acc[1] * acc[n - 1]


def until(x, w):
    vals = []
    t = 0.0
    while t < 2.5:
        vals.append(math.tanh(w * t) * x)
        t = t + 0.5
    return sum(vals) * vals[-1]


def some(x, y):
    picked = []
    for i in range(len(x)):
        if x[i] > 0:
            picked.append(x[i] * y)
    picked.append(y * y)
    return np.sum(np.array(picked) ** 2)


def _push(acc, v):
    acc.append(v * v)
    return v


def appended_by_a_helper(x, n):
    acc = []
    for i in range(n):
        last = _push(acc, x * (i + 1.0))
    return np.sum(np.stack(acc)) + np.sum(last)
'''

# (function, argument tuples)
LIST_CALLS: list[tuple[str, list[tuple[Any, ...]]]] = [
    ("conv1d_loss", [(RNG.normal(size=7), RNG.normal(size=3), 3), (RNG.normal(size=4), RNG.normal(size=1), 1)]),
    ("rnn_states", [(RNG.normal(size=(4, 3)), 0.5 * RNG.normal(size=(3, 3)), RNG.normal(size=3), 4)]),
    ("columns", [(RNG.normal(size=4), RNG.normal(size=3), 3)]),
    ("pieces", [(RNG.normal(size=5), RNG.normal(size=5)[:1])]),
    ("scalar_terms", [(0.7, -1.3, 4), (0.2, 0.9, 1)]),
    ("numpy_of_list", [(RNG.normal(size=3), 3)]),
    ("integrate", [(0.4, 1.7, 5), (-0.3, 0.8, 1)]),
    ("leaky", [([0.3, -0.7, 1.2, 0.5], 0.8), (RNG.normal(size=5), -0.6)]),
    ("outer_rows", [(RNG.normal(size=3), RNG.normal(size=4)), ([0.3, -0.2], [1.1, 0.4, -0.5])]),
    ("conv_with_helper", [(RNG.normal(size=6), RNG.normal(size=2), 2)]),
    ("running", [([0.3, -0.7, 1.2, 0.5], 4), (RNG.normal(size=3), 3)]),
    ("until", [(0.7, 1.3), (RNG.normal(size=2), -0.4)]),
    ("some", [([0.3, -0.5, 1.2], 0.8), ([-0.3, -0.5], 0.8)]),
    # The helper appends to the caller's list: the same list, not a copy held constant.
    ("appended_by_a_helper", [(RNG.normal(size=2), 3)]),
]


def _copy(args: tuple[Any, ...]) -> list[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else list(a) if isinstance(a, list) else a for a in args]


@pytest.mark.parametrize(("name", "calls"), LIST_CALLS, ids=[c[0] for c in LIST_CALLS])
def test_appended_lists_in_every_style(name: str, calls: list[tuple[Any, ...]]) -> None:
    source = textwrap.dedent(LISTS)
    forward, backward, code = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(source, functions=[name], **options)  # neither refuses
    for args in calls:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], _copy(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{code}") from None
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], _copy(args))
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], _copy(args))


def test_appended_list_gradient_reads_like_the_forward() -> None:
    """The 1-D convolution's backward: the stacked gradient split back into `dout`,
    one entry popped per append undone, and the list itself left alone."""
    code = codegen.generate(textwrap.dedent(LISTS), functions=["conv1d_loss"])
    assert "dout = list(darray_out)" in code
    assert "dout_item = dout.pop()" in code
    assert not re.search(r"\bout\.pop\(\)", code)  # nothing in the backward reads the list after an undone append


def test_a_list_read_at_its_end_is_popped_with_its_gradient() -> None:
    # `xs[-1]` in the loop: the backward reads the list as the forward had it then.
    code = codegen.generate(textwrap.dedent(LISTS), functions=["integrate"])
    assert re.search(r"dxs_item = dxs.pop\(\)\n\s+xs.pop\(\)", code), code


def test_a_list_gradient_entry_is_never_added_into_in_place() -> None:
    """`dhs = list(darray_hs)` holds rows of the upstream array passed in: `dhs[0] +=
    ...` would change the caller's array, so entries are added as `dhs[0] = dhs[0] + ...`."""
    source = textwrap.dedent(
        """
        import numpy as np

        def f(x, n):
            hs = []
            for i in range(n):
                hs.append(np.tanh(x * (i + 1.0)))
            s = hs[0] * hs[-1]
            return np.array(hs) + s
        """
    )
    forward, backward, code = load(source)
    assert "dhs = list(darray_hs)" in code and "dhs[0] = dhs[0] + " in code
    x = RNG.normal(size=(2, 3))
    upstream = RNG.normal(size=(3, 2, 3))
    kept = upstream.copy()
    backward["f_backward"](x, 3, dout=upstream)
    np.testing.assert_array_equal(upstream, kept, err_msg="the backward changed the upstream gradient")
    check_gradients(forward["f"], backward["f_backward"], [x, 3])


# (id, source body under `def f(x, k):`, the message's expected text)
REFUSED: list[tuple[str, str, str]] = [
    (
        "list-arithmetic",
        "res = []\nfor i in range(3):\n    res.append(x * i)\nreturn np.sum(res * 2)",
        (
            r":9:19: .*res \* 2: a list built with append is read here as a whole: read it as np.array\(res\), "
            r"np.stack\(res\), np.concatenate\(res\), sum\(res\) or res\[i\]"
        ),
    ),
    (
        "list-concatenated",
        "res = []\nfor i in range(3):\n    res.append(x * i)\nreturn np.sum(np.array(res + [x]))",
        r":9:28: .*res \+ \[x\]: a list built with append is read here as a whole: read it as np.array\(res\)",
    ),
    (
        "slice",
        "res = []\nfor i in range(3):\n    res.append(x * i)\nreturn np.sum(np.array(res[1:]))",
        r":9:28: .*slicing a list built with append is not supported: stack it first \(np.array\(res\)\[...\]\)",
    ),
    (
        "pop",
        "res = []\nfor i in range(3):\n    res.append(x * i)\ny = res.pop()\nreturn y",
        r":9:9: .*res.pop\(\) is not supported in reverse mode: read the element by its index \(res\[-1\]\)",
    ),
    (
        "append-to-parameter",
        "for i in range(3):\n    x.append(x[i] * 2)\nreturn np.sum(np.array(x))",
        r":7:9: .*appending to the parameter x would change the caller's list: append to a new list",
    ),
    (
        "returned",
        "res = []\nfor i in range(3):\n    res.append(x * i)\nreturn res",
        r":9:12: .*returning a list is not supported: return a tuple, or np.array\(res\)",
    ),
    (
        "extend",
        "res = []\nfor i in range(3):\n    res.extend([x * i])\nreturn np.sum(np.array(res))",
        r":8:9: .*res.extend\(...\) is not supported: build the list with append, one value at a time",
    ),
    (
        "unknown-list",
        "for i in range(3):\n    res.append(x * i)\nreturn x",
        r":7:9: .*append to an unknown list 'res': start it first \(res = \[\]\)",
    ),
]


@pytest.mark.parametrize(("body", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_unsupported_list_forms_name_themselves_and_the_rewrite(body: str, message: str) -> None:
    source = "import math\nimport numpy as np\n\n\ndef f(x, k):\n" + textwrap.indent(body, "    ") + "\n"
    with pytest.raises(codegen.CodegenError, match=message):
        codegen.generate(source)


HELPERS = '''
import math
import numpy as np


def _scale(v, c):
    return v * c


def model(x, a, b):
    def sig(z):
        return 1.0 / (1.0 + math.exp(-z))

    def layer(u):
        return sig(a * u + b) * scale

    scale = 2.0 * a
    h = layer(x)
    return layer(h) + sig(x)


def conv_loss(x, w, k):
    def _window(i, n):
        return np.sum(x[i:i + n] * w)

    out = []
    for i in range(len(x) - k + 1):
        out.append(_window(i, k))
    return np.sum(np.array(out) ** 2)


def late_binding(x, c, n):
    def term(i):
        return math.sin(c * i) * x[i]

    total = 0.0
    for i in range(n):
        total = total + term(i)
        c = c * 1.1
    return total


def layers(x, W1, W2):
    def dense(h, W):
        return np.tanh(_scale(h @ W, 0.5))

    def loss(h):
        return np.sum(h**2) / len(x)

    return loss(dense(dense(x, W1), W2))


def same_name(x, w):
    def _scale(v):
        return v * w

    return np.sum(_scale(x) ** 2) + np.sum(_scale(x * 2.0))
'''

HELPER_CALLS: list[tuple[str, list[tuple[Any, ...]]]] = [
    ("model", [(0.4, 1.3, -0.2), (-1.1, 0.7, 0.5)]),
    ("conv_loss", [(RNG.normal(size=6), RNG.normal(size=3), 3)]),
    ("late_binding", [([0.3, -0.7, 1.2], 0.8, 3), (RNG.normal(size=4), -0.4, 4)]),
    ("layers", [(RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5)), RNG.normal(size=(5, 2)))]),
    ("same_name", [(RNG.normal(size=3), RNG.normal(size=3))]),
]


@pytest.mark.parametrize(("name", "calls"), HELPER_CALLS, ids=[c[0] for c in HELPER_CALLS])
def test_local_helpers_in_every_style(name: str, calls: list[tuple[Any, ...]]) -> None:
    source = textwrap.dedent(HELPERS)
    forward, backward, code = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(source, functions=[name], **options)  # neither refuses
    for args in calls:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], _copy(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{code}") from None
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], _copy(args))
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], _copy(args))


def test_local_helpers_are_inlined_like_module_helpers() -> None:
    """Each call inlined and commented with the helper's name; no backward is written
    for a local helper, and the module's own `_scale` is not the local `_scale`."""
    code = codegen.generate(textwrap.dedent(HELPERS))
    assert "# backprop layer: return sig(a * u + b) * scale" in code
    assert "# backprop sig: return 1.0 / (1.0 + math.exp(-z))" in code
    assert "def sig_backward" not in code and "def layer_backward" not in code
    assert re.findall(r"^def (\w+)_backward", code, flags=re.MULTILINE) == [
        "model", "conv_loss", "late_binding", "layers", "same_name"
    ]


LOCAL_REFUSED: list[tuple[str, str, str]] = [
    (
        "as-a-value",
        "def g(z):\n    return z * x\nreturn sum(map(g, [x, 2.0]))",
        r":8:20: .*the local function g is used as a value: only calls to it are supported",
    ),
    (
        "default-reads-a-local",
        "k = 2.0\ndef g(z, s=k):\n    return z * s\nreturn g(x)",
        r":7:16: .*a default of the local function g reads a local variable: pass it at each call",
    ),
    (
        "in-a-loop",
        "out = 0.0\nfor i in range(3):\n    def g(z):\n        return z * i\n    out = out + g(x)\nreturn out",
        r":8:9: .*nested function definitions are not supported here \(only in the function's own body.*\): move the def there",
    ),
    ("lambda", "return (lambda z: z * 2)(x)", r":6:13: .*lambda expressions are not supported: define a local function \(def\)"),
]


@pytest.mark.parametrize(("body", "message"), [r[1:] for r in LOCAL_REFUSED], ids=[r[0] for r in LOCAL_REFUSED])
def test_unsupported_local_functions_name_themselves_and_the_rewrite(body: str, message: str) -> None:
    source = "import math\nimport numpy as np\n\n\ndef f(x):\n" + textwrap.indent(body, "    ") + "\n"
    with pytest.raises(codegen.CodegenError, match=message):
        codegen.generate(source)


def test_a_list_read_in_a_loop_before_a_helper_appends_to_it_is_refused() -> None:
    # The loop reads acc[-1] before the call that first appends a differentiated value:
    # read as a constant, it would be silently wrong from the second iteration on.
    source = (
        "import math\nimport numpy as np\n\n\ndef _push(acc, v):\n    acc.append(v)\n    return v\n\n\n"
        "def f(x):\n    acc = [0.0]\n    s = 0.0\n    for i in range(3):\n        s = s + acc[-1]\n"
        "        t = _push(acc, x * i)\n    return s\n"
    )
    with pytest.raises(codegen.CodegenError, match="acc is read before a differentiated value is appended to it") as info:
        codegen.generate(source)
    assert (info.value.line, info.value.column) == (6, 5)
