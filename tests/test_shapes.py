"""Shape annotations: provable mismatches are errors with a position, and with
`assert_shapes` the generated code asserts the shapes it assumed."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

import codegen
from codegen.infer.dims import Shape, parse_dims
from tests.conftest import RunCodegen
from tests.support import check_gradients, load

HEAD = "import numpy as np\n\n\n"

# id: (function, line, column, message); lines count from the `def` (line 4).
MISMATCHES: dict[str, tuple[str, int, int, str]] = {
    "matmul-inner-sizes": (
        'def f(x: "N 3", w: "4 M"):\n    return x @ w\n',
        5,
        12,
        "matrix product of shapes (N, 3) and (4, M): inner sizes 3 and 4 differ",
    ),
    "dot-inner-sizes": (
        'def f(x: "N 3", w: "4"):\n    h = np.dot(x, w)\n    return np.sum(h)\n',
        5,
        9,
        "matrix product of shapes (N, 3) and (4,): inner sizes 3 and 4 differ",
    ),
    "matmul-method-jaxtyping": (
        'def f(x: Float[np.ndarray, "N 3"], w: Float[np.ndarray, "2 M"]):\n    return x.dot(w)\n',
        5,
        12,
        "inner sizes 3 and 2 differ",
    ),
    "matmul-of-a-scalar": (
        'def f(x: "N D", s: float):\n    return np.sum(x @ s)\n',
        5,
        19,
        "the right operand of a matrix product is a scalar",
    ),
    "matmul-stacks": (
        'def f(x: "2 N D", w: "3 D M"):\n    return np.sum(x @ w)\n',
        5,
        19,
        "stacks shapes (2,) and (3,) do not broadcast",
    ),
    "broadcast-literals": (
        'def f(x: "N 3", b: "4"):\n    return np.sum(x + b)\n',
        5,
        19,
        "shapes (N, 3) and (4,) do not broadcast: size 3 against 4",
    ),
    "broadcast-after-a-product": (
        'def f(x: "N D", w: "D 3", b: "5"):\n    h = x @ w\n    return np.sum(np.tanh(h) * b)\n',
        6,
        19,
        "shapes (N, 3) and (5,) do not broadcast",
    ),
    "broadcast-in-augmented-assignment": (
        'def f(x: "N 3", b: "4"):\n    y = x * 2.0\n    y += b\n    return np.sum(y)\n',
        6,
        5,
        "do not broadcast",
    ),
    "too-many-indices": (
        'def f(x: "N D"):\n    return x[0, 1, 2] * 2.0\n',
        5,
        12,
        "too many indices: 3 for an array of shape (N, D)",
    ),
    "too-many-indices-with-slices": (
        'def f(x: "N D"):\n    y = x[:, :, 0]\n    return np.sum(y)\n',
        5,
        9,
        "too many indices: 3 for an array of shape (N, D)",
    ),
    "index-beyond-a-literal-size": (
        'def f(x: "3 D"):\n    return np.sum(x[-4])\n',
        5,
        19,
        "index -4 is out of range for axis 0, of size 3",
    ),
    "reduction-axis-beyond-the-rank": (
        'def f(x: "N D"):\n    return np.sum(x.sum(axis=2))\n',
        5,
        19,
        "axis 2 is out of range for an array of shape (N, D)",
    ),
    "reduction-negative-axis": (
        'def f(x: "N D"):\n    return np.sum(np.mean(x, axis=(0, -3)))\n',
        5,
        19,
        "axis -3 is out of range",
    ),
    "reshape-literal-sizes": (
        'def f(x: "2 6"):\n    return np.sum(x.reshape(4, 4))\n',
        5,
        19,
        "cannot reshape an array of shape (2, 6), 12 elements, into (4, 4), 16 elements",
    ),
    "reshape-inferred-size": (
        'def f(x: "2 6"):\n    return np.sum(np.reshape(x, (5, -1)))\n',
        5,
        19,
        "cannot reshape an array of shape (2, 6), 12 elements, into (5, -1)",
    ),
    "reshape-symbolic-operand": (
        'def f(x: "N 3"):\n    return np.sum(x.reshape(2, 4))\n',
        5,
        19,
        "a multiple of 3 elements, into (2, 4), 8 elements",
    ),
    "mismatch-in-a-helper": (
        'def layer(x, w):\n    return x @ w\n\n\ndef f(x: "N 3", w: "4 M"):\n    return np.sum(layer(x, w))\n',
        5,
        12,
        "inner sizes 3 and 4 differ",
    ),
    # The rows' shape tags give Dims what Ranks knew: a ravel has one dimension,
    # np.inner joins its operands' leading ones.
    "index-of-a-ravel": (
        'def f(x: "N D"):\n    v = np.ravel(x)\n    return v[0, 1] * 2.0\n',
        6,
        12,
        "too many indices: 2 for an array of shape (?,)",
    ),
    "index-of-an-inner-product": (
        'def f(x: "N D", y: "M D"):\n    z = np.inner(x, y)\n    return np.sum(z[0, 1, 2])\n',
        6,
        19,
        "too many indices: 3 for an array of shape (N, M)",
    ),
}

# Different symbols may be equal at run time, and a symbol may be 1.
FINE: dict[str, str] = {
    "different-symbols": 'def f(x: "N D", w: "M K"):\n    return np.sum(x @ w)\n',
    "symbol-against-literal": 'def f(x: "N D", w: "3 M"):\n    return np.sum(x @ w + x[:, :1])\n',
    "broadcast-against-one": 'def f(x: "N 3", b: "1", c: "N 1"):\n    return np.sum(x + b + c)\n',
    "ellipsis-and-new-axes": 'def f(x: "N D"):\n    return np.sum(x[..., None, 0] + x[None, :, 1, None])\n',
    "index-array": 'def f(x: "N D", idx):\n    return np.sum(x[idx, 0])\n',
    "reshape-inferred": 'def f(x: "2 6"):\n    return np.sum(x.reshape(3, -1) ** 2)\n',
    "reshape-symbolic": 'def f(x: "N 3"):\n    return np.sum(x.reshape(2, 6) ** 2)\n',
    "variadic-annotation": 'def f(x: "*batch 3", b: "4"):\n    return np.sum(x * 2.0) + np.sum(b)\n',
    "anonymous-dimensions": 'def f(x: "_ 3", y: "_ 4"):\n    return np.sum(x) + np.sum(y)\n',
}


def refused(source: str) -> codegen.CodegenError:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, filename="fwd.py")
    return info.value


@pytest.mark.parametrize(("source", "line", "column", "message"), MISMATCHES.values(), ids=MISMATCHES.keys())
def test_provable_mismatch_is_an_error_at_the_expression(source: str, line: int, column: int, message: str) -> None:
    if "Float[" in source:
        source = "from jaxtyping import Float\n" + source
        line += 1
    error = refused(HEAD + source)
    assert (error.line, error.column) == (line, column), str(error)
    assert error.message.startswith("shape mismatch: "), error.message
    assert message in error.message
    assert len(error.problems) == 1, str(error)


@pytest.mark.parametrize("source", FINE.values(), ids=FINE.keys())
def test_what_is_not_provable_is_not_an_error(source: str) -> None:
    codegen.generate(HEAD + source, filename="fwd.py")


def test_every_mismatch_is_reported() -> None:
    source = HEAD + 'def f(x: "N 3", w: "4 M", b: "5"):\n    h = x @ w\n    k = x + b\n    return np.sum(h) + np.sum(k)\n'
    error = refused(source)
    assert [(p.line, p.column) for p in error.problems] == [(5, 9), (6, 9)]


def test_cli_reports_the_mismatch_and_writes_nothing(project: Path, codegen: RunCodegen) -> None:
    (project / "fwd.py").write_text(HEAD + 'def f(x: "N 3", w: "4 M"):\n    return x @ w\n')
    result = codegen("fwd.py")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "fwd.py:5:12: error: shape mismatch: matrix product of shapes (N, 3) and (4, M): "
        "inner sizes 3 and 4 differ  [CG201]\n        return x @ w\n               ^\n"
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "fwd_backward.py").exists()


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("N D", ("N", "D")),
        ("3 N", (3, "N")),
        ("", ()),
        ("_ #N N+1 _n", (None, None, None, None)),
        ("*batch N", None),
        ("... N", None),
    ],
)
def test_annotation_words(text: str, shape: Shape | None) -> None:
    """jaxtyping's words: `_`, `#N` and expressions are sizes left unknown; `*name`
    and `...` stand for any number of dimensions, so not even the rank is known."""
    assert parse_dims(text) == shape


# ---- assert_shapes: the generated code checks the shapes it assumed ----------------------

AFFINE = HEAD + 'def affine(x: "N D", w: "D M", b: "M"):\n    return x @ w + b\n'
SQUARE = HEAD + 'def step(h: "N H", W: "H H", c: "3"):\n    return np.sum(np.tanh(h @ W) * c[0])\n'
SCALE = HEAD + 'def scale(x: "N D", s: "D"):\n    return x * s\n'
RNG = np.random.default_rng(0)


def normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape)


@pytest.mark.parametrize(
    ("source", "name", "args"),
    [
        (AFFINE, "affine", (normal(3, 4), normal(4, 2), normal(2))),
        (SQUARE, "step", (normal(2, 3), normal(3, 3), normal(3))),
        (SCALE, "scale", (normal(3, 4), normal(4))),
    ],
    ids=["affine", "square", "scale"],
)
def test_asserts_pass_on_the_annotated_shapes(source: str, name: str, args: tuple[np.ndarray, ...]) -> None:
    forward, backward, code = load(source, assert_shapes=True)
    assert "assert " in code
    check_gradients(forward[name], backward[f"{name}_backward"], list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((normal(3), normal(4, 2), normal(2)), r"x: shape \(3,\), expected \(N, D\)"),
        ((normal(3, 4), normal(5, 2), normal(2)), r"w: shape \(5, 2\), expected \(D=4, M\)"),
        ((normal(3, 4), normal(4, 2, 1), normal(2)), r"w: shape \(4, 2, 1\), expected \(D=4, M\)"),
        ((normal(3, 4), normal(4, 2), normal(3)), r"b: shape \(3,\), expected \(M=2,\)"),
        ((normal(3, 4), normal(4, 2), normal(1, 2)), r"b: shape \(1, 2\), expected \(M=2,\)"),
    ],
    ids=["rank-of-x", "D-of-w", "rank-of-w", "M-of-b", "rank-of-b"],
)
def test_asserts_fail_on_other_shapes(args: tuple[np.ndarray, ...], message: str) -> None:
    _, backward, _ = load(AFFINE, assert_shapes=True)
    with pytest.raises(AssertionError, match=message):
        backward["affine_backward"](*args, dout=np.ones((3, 2)))


def test_literal_sizes_and_square_matrices_are_asserted() -> None:
    _, backward, code = load(SQUARE, assert_shapes=True)
    assert "assert W.shape == (H, H)" in code
    assert "assert c.shape == (3,)" in code
    with pytest.raises(AssertionError, match=r"W: shape \(3, 2\), expected \(H=3, H=3\)"):
        backward["step_backward"](normal(2, 3), normal(3, 2), normal(3))
    with pytest.raises(AssertionError, match=r"c: shape \(4,\), expected \(3,\)"):
        backward["step_backward"](normal(2, 3), normal(3, 3), normal(4))


def test_a_gradient_of_another_shape_fails_before_the_return() -> None:
    """An upstream gradient of the wrong shape gives gradients of the wrong shape."""
    _, backward, code = load(SCALE, assert_shapes=True)
    assert "assert np.shape(dx) == x.shape" in code
    with pytest.raises(AssertionError, match=r"dx: shape \(4,\), expected \(3, 4\)"):
        backward["scale_backward"](normal(3, 4), normal(4), dout=normal(4))


def test_without_the_option_nothing_changes() -> None:
    code = codegen.generate(AFFINE)
    assert code == codegen.generate(AFFINE, assert_shapes=False)
    assert "assert" not in code


def test_parameters_without_shape_annotations_are_not_asserted() -> None:
    source = HEAD + 'def f(x, w: "D", n: int, mask: "N" = None, eps: float = 1e-5):\n    return np.sum(x * w) + eps\n'
    code = codegen.generate(source, assert_shapes=True)
    assert "assert w.ndim == 1" in code
    assert [line.split()[1] for line in code.splitlines() if line.strip().startswith("assert ")] == [
        "w.ndim",
        "np.shape(dw)",
    ]
    assert "assert" not in codegen.generate(HEAD + "def f(x, w):\n    return np.sum(x * w)\n", assert_shapes=True)


def test_symbols_never_shadow_what_the_function_reads() -> None:
    """`D` is a parameter and `M` a module constant the body reads: their sizes
    are bound under other names; `N` is bound by the body too, after the asserts."""
    source = (
        HEAD
        + "M = 2.0\n\n\n"
        + 'def f(x: "N D", D: int, w: "D M", b: "M"):\n    N = x.shape[0]\n    return np.sum(x @ w + b) * M / N + D\n'
    )
    forward, backward, code = load(source, assert_shapes=True)
    assert "D_1 = x.shape[1]" in code and "M_1 = w.shape[1]" in code
    assert 'f"w: shape {w.shape}, expected (D={D_1}, M)"' in code
    assert 'assert b.shape == (M_1,), f"b: shape {b.shape}, expected (M={M_1},)"' in code
    check_gradients(forward["f"], backward["f_backward"], [normal(3, 4), 7, normal(4, 5), normal(5)])


def test_split_style_asserts_in_both_halves() -> None:
    _, backward, code = load(AFFINE, assert_shapes=True, style="split")
    assert "cache = (w, x, b)" in code  # b only for its gradient's check
    x, w, b = normal(3, 4), normal(4, 2), normal(2)
    out, cache = backward["affine_forward"](x, w, b)
    db = backward["affine_backward"](np.ones_like(out), cache)[2]
    np.testing.assert_allclose(db, [3.0, 3.0])
    with pytest.raises(AssertionError, match=r"b: shape \(3,\)"):
        backward["affine_forward"](x, w, normal(3))
    _, scale, _ = load(SCALE, assert_shapes=True, style="split")
    out, cache = scale["scale_forward"](x, normal(4))
    with pytest.raises(AssertionError, match=r"dx: shape \(4,\), expected \(3, 4\)"):
        scale["scale_backward"](normal(4), cache)


def test_forward_mode_asserts_parameters_and_tangents() -> None:
    _, jvp, code = load(AFFINE, assert_shapes=True, mode="forward")
    assert "np.shape(x_dot) == x.shape" in code
    x, w, b = normal(3, 4), normal(4, 2), normal(2)
    out_dot = jvp["affine_jvp"](x, w, b, x, w, b)[1]
    np.testing.assert_allclose(out_dot, 2 * x @ w + b)
    with pytest.raises(AssertionError, match=r"b_dot: shape \(3,\), expected \(2,\)"):
        jvp["affine_jvp"](x, w, b, x, w, normal(3))


def test_hessian_vector_products_assert_too() -> None:
    _, hvp, code = load(AFFINE, assert_shapes=True, mode="hvp")
    assert "assert w.ndim == 2 and w.shape[0] == D" in code
    x, w, b = normal(3, 4), normal(4, 2), normal(2)
    dout = normal(3, 2)
    dx_dot = hvp["affine_hvp"](x, w, b, x, w, b, dout=dout)[0]
    np.testing.assert_allclose(dx_dot, dout @ w.T)
    with pytest.raises(AssertionError, match=r"w: shape \(2, 2\), expected \(D=4, M\)"):
        hvp["affine_hvp"](x, normal(2, 2), b, x, w, b, dout=dout)


def test_jaxtyping_annotations_are_asserted(monkeypatch: pytest.MonkeyPatch) -> None:
    class Float:
        def __class_getitem__(cls, item: object) -> type:
            return cls

    monkeypatch.setitem(sys.modules, "jaxtyping", types.SimpleNamespace(Float=Float))
    source = (
        "import numpy as np\nfrom jaxtyping import Float\n\n\n"
        'def affine(x: Float[np.ndarray, "N D"], w: Float[np.ndarray, "D M"]):\n    return x @ w\n'
    )
    forward, backward, code = load(source, assert_shapes=True)
    assert "assert w.ndim == 2 and w.shape[0] == D" in code
    check_gradients(forward["affine"], backward["affine_backward"], [normal(3, 4), normal(4, 2)])
    with pytest.raises(AssertionError, match=r"w: shape \(3, 2\)"):
        backward["affine_backward"](normal(3, 4), normal(3, 2), dout=np.ones((3, 2)))


def test_a_default_value_is_no_proof_of_a_number() -> None:
    """`dout=1.0` is a guess: the caller passes an array (the generated backward,
    differentiated again for Hessian-vector products, relies on it)."""
    source = HEAD + 'def f(x: "N D", w: "D M", g=1.0):\n    return np.sum((g @ w.T) * x)\n'
    codegen.generate(source, wrt=["x", "w"])
