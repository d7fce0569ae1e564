"""Rule-table rows for numpy's joining (concatenate, stack, list displays, item
writes), array manipulation and linear algebra.

Most of these templates depend on the call's static arguments (an axis, pad
widths, a norm's order), so they are computed per call; an argument outside
what a row handles raises `Unsupported`, which the normaliser reports at the
call. Rows that are not linear in each operand (det, inv, solve, slogdet,
norm with an order, sort) also say how their tangents are formed, for forward
mode.
"""

from __future__ import annotations

import ast

from codegen.ad.rules import Unsupported, _rank, defrule

Statics = dict[str, ast.expr]


# ---- joining and writing into (templates computed per call) ----------------------
def _axis_index(axis: ast.expr, part: str) -> str:
    """An index expression selecting `part` along `axis` (a literal int)."""
    if not (isinstance(axis, ast.Constant) and type(axis.value) is int) and not (
        isinstance(axis, ast.UnaryOp) and isinstance(axis.operand, ast.Constant)
    ):
        raise Unsupported("the axis must be a literal integer")
    k = int(ast.literal_eval(axis))
    if k >= 0:
        return ", ".join([":"] * k + [part])
    return ", ".join(["...", part] + [":"] * (-k - 1))


def _concatenate(index: int, count: int, statics: Statics) -> str:
    axis = statics.get("axis", ast.Constant(0))
    k = ast.unparse(axis)
    start = " + ".join(f"x{j}.shape[{k}]" for j in range(index))
    stop = f"{start} + x{index}.shape[{k}]" if start else f"x{index}.shape[{k}]"
    return f"g[{_axis_index(axis, f'{start}:{stop}')}]"


def _stack(index: int, count: int, statics: Statics) -> str:
    return f"g[{_axis_index(statics.get('axis', ast.Constant(0)), str(index))}]"


defrule("numpy.concatenate", "", keywords="axis=0", kind="other", shape="unknown", variadic=True, computed=_concatenate)
defrule("numpy.stack", "", keywords="axis=0", kind="other", shape="unknown", variadic=True, computed=_stack)
# A list or tuple display, `[1.0, a, 3.0]`: each element's gradient is its entry.
defrule("list", "", kind="other", shape="unknown", variadic=True, computed=lambda index, count, statics: f"g[{index}]")
# `a[index] = v` in the forward pass: a fresh copy of `a` with `v` written in. The
# gradient of `a` is g with the written part zeroed, which takes two statements:
# the differentiator writes those itself. Where `index` may name a position twice
# (an index array), numpy keeps one of the writes: only that element of v gets
# the gradient, as numpy itself tells by writing positions and reading them back.
def _setitem(index: int, count: int, statics: Statics) -> str:
    unique = statics.get("__unique__")
    if index == 0 or (isinstance(unique, ast.Constant) and unique.value is True):
        return "g" if index == 0 else "g[index]"
    where = statics.get("index")
    sliced = where is not None and any(isinstance(n, ast.Slice) for n in ast.walk(where))
    return f"g[index] * _kept_writes(g, {'np.s_[index]' if sliced else 'index'})"  # `:` only in brackets


defrule("setitem", "x v", "g", "g[index]", statics="index", kind="other", shape="same", computed=_setitem)
# `np.add.at(a, index, v)` in the forward pass (lower/scatter.py): a copy of `a` with
# every element of v added at its position, a position named twice receiving both.
defrule("add.at", "x v", "g", "g[index]", statics="index", kind="other", shape="unknown")


def _literal(expr: ast.expr | None) -> object:
    """The value of a literal static argument, or `...` when it is not one."""
    if expr is None:
        return None
    try:
        return ast.literal_eval(expr)
    except ValueError:
        return ...


def _axis(statics: Statics, default: int | None = None) -> int | None:
    """A literal integer axis (`default` when absent), None for axis=None."""
    if "axis" not in statics:
        return default
    value = _literal(statics["axis"])
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Unsupported("the axis must be a literal integer")


# ---- shapes ----------------------------------------------------------------------
defrule("numpy.reshape", "x", "np.reshape(g, np.shape(x))", statics="shape", kind="other", shape="reshape")
defrule("numpy.ravel", "x", "np.reshape(g, np.shape(x))", kind="other", shape="ravel")
defrule("numpy.squeeze", "x", "np.reshape(g, np.shape(x))", keywords="axis=None", kind="other", shape="unknown")
defrule("numpy.expand_dims", "x", "np.reshape(g, np.shape(x))", statics="axis", kind="other", shape="unknown")
defrule("numpy.transpose", "x", "np.transpose(g)", kind="other", shape="reversed")
defrule("numpy.transpose.axes", "x", "np.transpose(g, np.argsort(axes))", statics="axes", kind="other", shape="same-rank")
defrule("numpy.T", "x", "g.T", kind="other", shape="reversed")
defrule("numpy.mT", "x", "g.mT", kind="other", shape="same-rank")
defrule("numpy.swapaxes", "x", "np.swapaxes(g, axis1, axis2)", statics="axis1 axis2", kind="other", shape="unknown")
defrule("numpy.copy", "x", "g", kind="other", shape="same")
defrule("numpy.broadcast_to", "x", "_unbroadcast(g, np.shape(x))", statics="shape", kind="other", shape="unknown")
defrule("numpy.tolist", "x", "np.reshape(g, np.shape(x))", kind="other", shape="unknown")

# ---- reordering, repeating, padding ----------------------------------------------
defrule("numpy.flip", "x", "np.flip(g, axis)", keywords="axis=None", kind="other", shape="same")
defrule("numpy.moveaxis", "x", "np.moveaxis(g, destination, source)", statics="source destination", kind="other", shape="same-rank")
for _k in (1, 2, 3):
    defrule(f"numpy.atleast_{_k}d", "x", "np.reshape(g, np.shape(x))", kind="other", shape="unknown")


def _rollaxis(index: int, count: int, statics: Statics) -> str:
    axis, start = _literal(statics.get("axis")), _literal(statics.get("start", ast.Constant(0)))
    if type(axis) is not int or type(start) is not int:
        raise Unsupported("the axis and start must be literal integers")
    # np.rollaxis(x, a, s) is np.moveaxis(x, a, s) for s <= a, else np.moveaxis(x, a, s - 1),
    # once negative axes count from the end.
    axis_text = str(axis) if axis >= 0 else f"np.ndim(x) - {-axis}"
    if start == 0:
        destination = "0"
    elif start > 0 and axis >= 0:
        destination = str(start if start <= axis else start - 1)
    else:
        s = str(start) if start >= 0 else f"np.ndim(x) - {-start}"
        destination = f"{s} if {s} <= {axis_text} else {s} - 1"
    return f"np.moveaxis(g, {destination}, {axis})"


defrule("numpy.rollaxis", "x", statics="axis", keywords="start=0", kind="other", shape="same-rank", computed=_rollaxis)
# The tiles of np.tile(x, reps), summed: the helper splits each axis into (tile, element).
defrule("numpy.tile", "x", "_untile(g, x, reps)", statics="reps", kind="other", shape="unknown")
# Picking along an axis (log-probabilities of labels); the helper adds back with np.add.at.
defrule("numpy.take_along_axis", "x indices", "_put_along_axis(g, indices, axis, x)", None, keywords="axis=-1", kind="other", shape="unknown")
# The helpers above, met again when generated code is differentiated (Hessian-vector
# products): each is linear in its gradient, and the other's adjoint.
defrule("numpy.untile", "grad like", "np.tile(g, reps)", None, statics="reps", kind="other", shape="unknown")
defrule(
    "numpy.put_along_axis", "grad indices axis like", "np.take_along_axis(g, indices, axis)", None, None, None,
    kind="other",
    shape="unknown",
)  # fmt: skip


def _repeat(index: int, count: int, statics: Statics) -> str:
    repeats = statics["repeats"]
    if isinstance(repeats, (ast.List, ast.Tuple)) or isinstance(_literal(repeats), (list, tuple)):
        raise Unsupported("only an int number of repeats is supported")
    r = ast.unparse(repeats)
    axis = _axis(statics)
    if axis is None:
        return f"np.reshape(np.sum(np.reshape(g, (-1, {r})), axis=1), np.shape(x))"
    # Axis k of the output holds each element of x's axis k `repeats` times in a row.
    if axis == -1:
        return f"np.sum(np.reshape(g, np.shape(x)[:-1] + (-1, {r})), axis=-1)"
    summed = axis + 1 if axis >= 0 else axis
    return f"np.sum(np.reshape(g, np.shape(x)[:{axis}] + (-1, {r}) + np.shape(x)[{axis + 1}:]), axis={summed})"


defrule("numpy.repeat", "x", statics="repeats", keywords="axis=None", kind="other", shape="unknown", computed=_repeat)


def _pad_slices(width: object) -> list[str] | None:
    """The index of the unpadded part, `1:-1, 2:`, for per-axis literal pad widths."""
    if not isinstance(width, (list, tuple)) or not all(isinstance(w, (list, tuple)) for w in width):
        return None
    parts = []
    for i, pair in enumerate(width):
        before, after = (pair[0], pair[0]) if len(pair) == 1 else pair
        if type(before) is not int or type(after) is not int:
            raise Unsupported("pad widths must be literal integers")
        stop = f"-{after}" if after else ""
        parts.append(f"{before or ''}:{stop}")
    return parts


def _pad_slices_of_names(width: ast.expr) -> list[str] | None:
    """As `_pad_slices`, for per-axis pairs written with names: `((0, 0), (pad, pad))`."""
    pairs = width.elts if isinstance(width, (ast.Tuple, ast.List)) else None
    if not pairs or not all(isinstance(pair, (ast.Tuple, ast.List)) and len(pair.elts) in (1, 2) for pair in pairs):
        return None
    parts = []
    for pair in pairs:
        assert isinstance(pair, (ast.Tuple, ast.List))
        before, after = (pair.elts[0], pair.elts[0]) if len(pair.elts) == 1 else pair.elts
        start = "" if _literal(before) == 0 else ast.unparse(before)
        literal = _literal(after)
        if type(literal) is int:
            parts.append(f"{start}:{-literal if literal else ''}")
        else:
            parts.append(f"{start}:-({ast.unparse(after)}) or None")  # a width of 0 reaches the end
    return parts


def _pad(index: int, count: int, statics: Statics) -> str:
    mode = _literal(statics.get("mode", ast.Constant("constant")))
    if mode != "constant":
        raise Unsupported("only mode='constant' is supported")
    width = statics["pad_width"]
    value = _literal(width)
    slices = _pad_slices(value) if value is not ... else _pad_slices_of_names(width)
    if slices is not None:
        return f"g[{', '.join(slices)}]"
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(type(v) is int for v in value):
        before, after = value
    elif type(value) is int:
        before = after = value
    elif value is ...:
        p = ast.unparse(width)  # an int name: the same width everywhere (-0 or None: to the end)
        return f"g[(slice({p}, -({p}) or None),) * np.ndim(g)]"
    else:
        raise Unsupported("pad widths must be an int, a pair, or one pair per axis")
    return f"g[(slice({before}, {-after if after else None}),) * np.ndim(g)]"


defrule(
    "numpy.pad",
    "x",
    statics="pad_width",
    keywords="mode='constant' constant_values=0",
    kind="other",
    shape="same-rank",
    computed=_pad,
    tangents="np.pad(t, pad_width)",  # the padding constant has no tangent
)


# ---- running sums and differences ---------------------------------------------
def _cumsum(index: int, count: int, statics: Statics) -> str:
    if _axis(statics) is None:
        return "np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(x))"
    return "np.flip(np.cumsum(np.flip(g, axis), axis), axis)"


def _diff_ends(statics: Statics) -> str:
    """The keywords of np.diff that pad the tangent where the call pads x with constants."""
    ends = []
    for key in ("prepend", "append"):
        if key in statics:
            if type(_literal(statics[key])) not in (int, float):
                raise Unsupported(f"only a number is supported as {key}")
            ends.append(f", {key}=0")
    return "".join(ends)


def _diff(index: int, count: int, statics: Statics) -> str:
    if _literal(statics.get("n", ast.Constant(1))) != 1:
        raise Unsupported("only n=1 is supported: write np.diff(np.diff(x)) for n=2")
    _axis(statics, -1)
    # Each element enters two differences, with opposite signs; an end padded with a
    # constant keeps both of its element's differences.
    _diff_ends(statics)
    ends = "".join(f", {key}=0" for key in ("prepend", "append") if key not in statics)
    return f"-np.diff(g, axis=axis{ends})"


defrule("numpy.cumsum", "x", keywords="axis=None", kind="other", shape="unknown", computed=_cumsum)
defrule(
    "numpy.diff",
    "x",
    keywords="n=1 axis=-1 prepend=None append=None",
    kind="other",
    shape="same-rank",
    computed=_diff,
    tangents=lambda index, count, statics: f"np.diff(t, axis=axis{_diff_ends(statics)})",
)


# ---- sorting: a permutation, undone by the inverse permutation -------------------
def _sort(index: int, count: int, statics: Statics) -> str:
    if "axis" in statics and _literal(statics["axis"]) is None:
        return "np.reshape(np.take(g, np.argsort(np.argsort(np.ravel(x)))), np.shape(x))"
    _axis(statics, -1)
    return "np.take_along_axis(g, np.argsort(np.argsort(x, axis=axis), axis=axis), axis=axis)"


def _sort_tangent(index: int, count: int, statics: Statics) -> str:
    if "axis" in statics and _literal(statics["axis"]) is None:
        return "np.take(t, np.argsort(np.ravel(x)))"
    return "np.take_along_axis(t, np.argsort(x, axis=axis), axis=axis)"


defrule("numpy.sort", "x", keywords="axis=-1", kind="other", shape="unknown", computed=_sort, tangents=_sort_tangent)


# ---- np.tensordot ----------------------------------------------------------------
def _tensordot(index: int, count: int, statics: Statics) -> str:
    axes = _literal(statics.get("axes", ast.Constant(2)))
    expr = statics.get("axes", ast.Constant(2))
    if type(axes) is int or (axes is ... and not isinstance(expr, (ast.Tuple, ast.List))):
        # n axes contracted: y's first n with x's last n. The gradients contract over the
        # free axes instead, with the contracted ones moved out of the way.
        if axes == 0:
            return "np.tensordot(g, y, np.ndim(y))" if index == 0 else "np.tensordot(x, g, np.ndim(x))"
        if type(axes) is int:
            n, leading, trailing = str(axes), str(list(range(axes))), str(list(range(-axes, 0)))
        else:  # an int expression: generated code, differentiated again
            n = f"({ast.unparse(expr)})"
            leading, trailing = f"list(range({n}))", f"list(range(-{n}, 0))"
        if index == 0:
            return f"np.tensordot(g, np.moveaxis(y, {leading}, {trailing}), np.ndim(y) - {n})"
        return f"np.tensordot(np.moveaxis(x, {trailing}, {leading}), g, np.ndim(x) - {n})"
    if not (isinstance(axes, (list, tuple)) and len(axes) == 2):
        raise Unsupported("axes must be a literal int or a pair of lists of ints")
    ax, ay = ([a] if type(a) is int else list(a) if isinstance(a, (list, tuple)) else None for a in axes)
    if ax is None or ay is None or len(ax) != len(ay) or not all(type(a) is int for a in ax + ay):
        raise Unsupported("axes must be a literal int or a pair of lists of ints")
    k = len(ax)
    ranks = _rank(statics, 0), _rank(statics, 1)
    if ranks[0] is not None and ranks[1] is not None:
        return _tensordot_ranked(index, ax, ay, ranks[0], ranks[1])
    last, first = list(range(-k, 0)), list(range(k))
    # Move the contracted axes out of the way, contract the free ones, move them back.
    if index == 0:
        moved = "y" if ay == last else f"np.moveaxis(y, {ay}, {last})"
        part = f"np.tensordot(g, {moved}, np.ndim(y) - {k})"
        return part if ax == last else f"np.moveaxis({part}, {last}, {ax})"
    moved = "x" if ax == first else f"np.moveaxis(x, {ax}, {first})"
    part = f"np.tensordot({moved}, g, np.ndim(x) - {k})"
    return part if ay == first else f"np.moveaxis({part}, {first}, {ay})"


def _tensordot_ranked(index: int, ax: list[int], ay: list[int], rx: int, ry: int) -> str:
    """With both ranks known: contract g with the other operand over its free axes,
    then put the axes in the operand's order, transposing only where they are not."""
    if any(not -r <= a < r for axes, r in ((ax, rx), (ay, ry)) for a in axes):
        raise Unsupported("tensordot: an axis out of range")
    ax, ay = [a % rx for a in ax], [a % ry for a in ay]
    free_x = [i for i in range(rx) if i not in ax]
    free_y = [i for i in range(ry) if i not in ay]
    if index == 0:
        g_axes = list(range(len(free_x), len(free_x) + len(free_y)))
        paired = [ax[ay.index(a)] for a in sorted(ay)]
        forms = [
            (f"np.tensordot(g, y, axes=({g_axes}, {free_y}))", free_x + paired),
            (f"np.tensordot(y, g, axes=({free_y}, {g_axes}))", paired + free_x),
        ]
    else:
        g_axes = list(range(len(free_x)))
        paired = [ay[ax.index(a)] for a in sorted(ax)]
        forms = [
            (f"np.tensordot(g, x, axes=({g_axes}, {free_x}))", free_y + paired),
            (f"np.tensordot(x, g, axes=({free_x}, {g_axes}))", paired + free_y),
        ]
    for part, source in forms:
        if source == sorted(source):
            return part
    part, source = forms[0]
    return f"np.transpose({part}, {tuple(source.index(i) for i in range(len(source)))})"


defrule("numpy.tensordot", "x y", keywords="axes=2", kind="other", shape="unknown", computed=_tensordot)


# ---- linear algebra -----------------------------------------------------------------
def _matrix(statics: Statics, index: int, name: str) -> str:
    """`name`'s matrix transpose: `.T` for a known matrix, `.mT` for a stack or unknown rank."""
    return f"{name}.T" if _rank(statics, index) == 2 else f"{name}.mT"


def _per_matrix(statics: Statics, value: str) -> str:
    """A value per matrix of a stack, made to broadcast against the matrices."""
    return value if _rank(statics, 0) == 2 else f"np.expand_dims({value}, (-2, -1))"


def _det(index: int, count: int, statics: Statics) -> str:
    return f"{_per_matrix(statics, 'g * out')} * {_matrix(statics, 0, 'np.linalg.inv(x)')}"


def _slogdet(index: int, count: int, statics: Statics) -> str:
    return f"{_per_matrix(statics, 'g')} * {_matrix(statics, 0, 'np.linalg.inv(x)')}"


def _inv(index: int, count: int, statics: Statics) -> str:
    t = _matrix(statics, 0, "out")
    return f"-({t} @ g @ {t})"


def _solve(index: int, count: int, statics: Statics) -> str:
    """out = solve(A, b): db = solve(A^T, g), dA = -db out^T (an outer product for a vector b)."""
    db = f"np.linalg.solve({_matrix(statics, 0, 'x')}, g)"
    if index == 1:
        return db
    rb = _rank(statics, 1)
    if rb == 1:
        return f"-np.outer({db}, out)"
    if rb is not None:
        return f"-({db} @ {_matrix(statics, 1, 'out')})"
    return f"-np.outer({db}, out) if np.ndim(y) == 1 else -({db} @ out.mT)"


_TRACE = "np.trace(np.linalg.solve(x, t), axis1=-2, axis2=-1)"
defrule("numpy.linalg.det", "x", kind="other", shape="det", computed=_det, reads_out=True, tangents=f"out * {_TRACE}")
defrule("numpy.linalg.slogdet", "x", kind="other", shape="det", computed=_slogdet, tangents=_TRACE)
defrule("numpy.linalg.inv", "x", kind="other", shape="same", computed=_inv, reads_out=True, tangents="-(out @ t @ out)")
defrule(
    "numpy.linalg.solve",
    "x y",
    kind="other",
    shape="solve",
    computed=_solve,
    reads_out=True,
    first=(1,),
    tangents=lambda index, count, statics: "np.linalg.solve(x, t)" if index else "-np.linalg.solve(x, t @ out)",
)


# ---- norms ----------------------------------------------------------------------------
def norm_order(expr: ast.expr | None) -> float | str | None:
    """A norm's `ord`: None, a number (infinities included) or 'fro'/'nuc'."""
    if expr is None:
        return None
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = norm_order(expr.operand)
        if isinstance(inner, (int, float)):
            return -inner
        raise Unsupported("the norm's ord must be a literal number, np.inf or 'fro'")
    if isinstance(expr, ast.Attribute) and expr.attr == "inf" or isinstance(expr, ast.Name) and expr.id == "inf":
        return float("inf")
    value = _literal(expr)
    if value is None or isinstance(value, str) and value in ("fro", "nuc"):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise Unsupported("the norm's ord must be a literal number, np.inf or 'fro'")


def _vector_norm(statics: Statics) -> bool:
    """Whether the call is a vector norm (else a matrix norm); refused when it cannot tell."""
    axis = _literal(statics.get("axis", ast.Constant(None)))
    if type(axis) is int:
        return True
    if isinstance(axis, tuple) and len(axis) == 2:
        return False
    if axis is None:
        rank = _rank(statics, 0)
        if rank in (1, 2):
            return rank == 1
        raise Unsupported(
            "with an ord, np.linalg.norm is a vector or a matrix norm by the array's rank, unknown here:"
            " pass axis=-1 for a vector norm, or annotate the array's shape"
        )
    raise Unsupported("the axis must be a literal integer or a pair of them")


def _norm_kind(statics: Statics) -> str:
    """'2' (Euclidean or Frobenius), '1', 'inf' (either sign) or 'p' (any other order)."""
    order = norm_order(statics.get("ord"))
    if order == "fro":
        # numpy takes 'fro' only of a matrix: the call proves one where the rank is unknown
        axis = _literal(statics.get("axis", ast.Constant(None)))
        if type(axis) is int or axis is None and _rank(statics, 0) == 1:
            raise Unsupported("ord='fro' is a matrix norm: give a matrix or axis=(0, 1)")
        return "2"
    if order is None:
        return "2"
    if order == "nuc" or not _vector_norm(statics):
        raise Unsupported("only the Frobenius matrix norm (ord=None or 'fro') is supported")
    if order == 0:
        raise Unsupported("ord=0 counts the nonzero elements: it has no derivative")
    assert isinstance(order, (int, float))
    return "2" if order == 2 else "1" if order == 1 else "inf" if abs(order) == float("inf") else "p"


_AT_MAX = "(np.abs(x) == keep(out))"
_NORM_GRADIENTS = {
    "2": "x * keep(g) / keep(out)",
    "1": "np.sign(x) * keep(g)",
    # the elements of largest (smallest) magnitude share the gradient
    "inf": f"np.sign(x) * {_AT_MAX} * keep(g) / np.sum({_AT_MAX}, axis=axis, keepdims=True)",
    "p": "np.sign(x) * (np.abs(x) / keep(out)) ** (ord - 1) * keep(g)",
}
_SUM = "axis=axis, keepdims=keepdims"
_NORM_TANGENTS = {
    "2": f"np.sum(x * t, {_SUM}) / out",
    "1": f"np.sum(np.sign(x) * t, {_SUM})",
    "inf": f"np.sum(np.sign(x) * {_AT_MAX} * t, {_SUM}) / np.sum({_AT_MAX}, {_SUM})",
    "p": f"np.sum(np.sign(x) * (np.abs(x) / keep(out)) ** (ord - 1) * t, {_SUM})",
}
defrule(
    "numpy.linalg.norm",
    "x",
    keywords="ord=None axis=None keepdims=False",
    kind="reduce",
    computed=lambda index, count, statics: _NORM_GRADIENTS[_norm_kind(statics)],
    tangents=lambda index, count, statics: _NORM_TANGENTS[_norm_kind(statics)],
    reads_out=True,
)
