"""Softmax, log-softmax and cross-entropy, recognised in the forms people write them.

The normaliser recognises a softmax written as one expression. Written over
several statements, in place too (`scores = np.exp(scores)`, then `scores /=
scores.sum(axis=1, keepdims=True)`), its stages reach here as `p = e / t` with
`t = np.sum(e, axis=k, keepdims=True)`, or `lp = s - np.log(Z)` with `Z =
np.sum(np.exp(s), axis=k, keepdims=True)`; they become `numpy.normalize.staged`
and `numpy.log_softmax.staged`, whose Jacobians are applied whole.

A cross-entropy `-np.sum(np.log(p[rows, y]))` (or `-np.sum(lp[rows, y])`, or
`-np.mean(...)`, the sum over the rows divided by their number) of such
a softmax of `s` along axis 1 becomes one operation of `s`, whose gradient is
`(p - onehot) * g`: `ds = p * g`, then `ds[rows, y] -= g`, as the author writes
it. That holds only when `rows` picks every row of `s` once (`np.arange(N)` or
`range(N)` with `N = x.shape[0]` of the array the logits are computed from)
and the kinds prove `y` a vector (labels of shape (N, 1) pick N times a row);
otherwise the chain of generic rules stays, which is right for any rows.

Each rewrite is the exact derivative of the value it replaces, so the values
involved may be read elsewhere too (their other uses keep their own gradients).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from codegen import ir
from codegen.ad.rules import RULES

Resolve = Callable[[ast.expr], "str | None"]
IsVector = Callable[[ast.expr], bool]  # an index part certainly of rank 1 or less

_SOFTMAX = ("numpy.normalize", "numpy.normalize.staged", "numpy.normalize.exp", "numpy.normalize.staged.exp")
_TOTALS = ("numpy.sum", "numpy.mean")
_LOG_SOFTMAX = ("numpy.log_softmax", "numpy.log_softmax.staged")
# Operations whose value has the rows of their first operand (of rank 2 or more).
_ROW_KEEPING = ("numpy.sub.shift", "numpy.dot", "numpy.matmul", *_SOFTMAX, *_LOG_SOFTMAX)


def recognise_softmax(fn: ir.Function, resolve: Resolve, is_vector: IsVector) -> None:
    """Rewrite, in place, the staged softmaxes and cross-entropies of `fn`."""
    stages = [s for s in fn.body if isinstance(s, ir.Stage)]
    # A name a loop or a branch binds again is not its top-level definition after it.
    nested = {s.target for s in ir.walk(fn.body) if isinstance(s, (ir.Stage, ir.Append))} - {s.target for s in stages}
    nested |= {name for s in ir.walk(fn.body) if isinstance(s, ir.Loop) for name in s.carried}
    definitions = {s.target: s for s in stages if s.target not in nested}
    for stage in stages:
        # A stage's root only: the templates read the operation's own value `out`.
        staged = _staged_softmax(stage.value, definitions)
        if staged is not None:
            stage.value = staged
        of_exp = _softmax_of_exp(stage.value, definitions)
        if of_exp is not None:
            stage.value = of_exp
    plains = _plain_bindings(fn.body)
    rows = _Rows(definitions, plains, resolve, is_vector)
    for stage in stages:
        stage.value = _with_cross_entropy(stage.value, rows, _cross_entropy)
    # Then the picks no whole cross-entropy took (`lp = np.log(p[rows, y])` staged
    # for one is read there from its definition as it was).
    for stage in stages:
        stage.value = _with_cross_entropy(stage.value, rows, _log_pick)


# ---- softmax over several statements --------------------------------------------------
def _staged_softmax(value: ir.Node, definitions: dict[str, ir.Stage]) -> ir.Op | None:
    if not (isinstance(value, ir.Op) and len(value.args) == 2):
        return None
    left, right = value.args
    if value.rule.name == "numpy.div" and _whole(left) and _whole(right):
        assert isinstance(left, ir.Leaf) and isinstance(right, ir.Leaf) and right.var is not None
        summed = _kept_sum(definitions.get(right.var))
        if summed is None:
            return None
        operand, axis = summed
        if _same_exp(operand, left, definitions):
            # `np.exp(s) / np.sum(np.exp(s), ...)`: one exponential serves both.
            sum_op = definitions[right.var].value
            assert isinstance(sum_op, ir.Op)
            assert left.var is not None
            sum_op.args[0] = ir.Leaf(ast.Name(left.var, ast.Load()), left.var)
        elif not _same(operand, left):
            return None
        return ir.Op(RULES["numpy.normalize.staged"], [left, right], {"axis": axis}, value.spelling)
    if value.rule.name == "numpy.sub" and _whole(left) and isinstance(right, ir.Op) and right.rule.name == "numpy.log":
        assert isinstance(left, ir.Leaf)
        z = right.args[0]
        if not (len(right.args) == 1 and _whole(z)):
            return None
        assert isinstance(z, ir.Leaf) and z.var is not None
        summed = _kept_sum(definitions.get(z.var))
        if summed is None:
            return None
        operand, axis = summed
        exp = _exp_operand(operand, definitions)
        if exp is None or not _same(exp, left):
            return None
        spelling = ir.substitute(value.spelling, {"__1__": ir.substitute(right.spelling, {"__0__": _slot(1)})})
        return ir.Op(RULES["numpy.log_softmax.staged"], [left, z], {"axis": axis}, spelling)
    return None


def _softmax_of_exp(value: ir.Node, definitions: dict[str, ir.Stage]) -> ir.Op | None:
    """`e / np.sum(e, axis=k, keepdims=True)` (or its staged form) of a staged `e =
    np.exp(s)`, as one operation of `s` too (the forward is written as it was)."""
    if not (isinstance(value, ir.Op) and value.rule.name in ("numpy.normalize", "numpy.normalize.staged")):
        return None
    exp = _exp_operand(value.args[0], definitions)
    if not (_whole(value.args[0]) and exp is not None and _whole(exp)):
        return None
    return ir.Op(RULES[f"{value.rule.name}.exp"], [*value.args, ir.clone(exp)], dict(value.keywords), value.spelling)


def _kept_sum(stage: ir.Stage | None) -> tuple[ir.Node, ast.expr] | None:
    """(x, k) when `stage` is `np.sum(x, axis=k, keepdims=True)`, k an int."""
    op = stage.value if stage is not None else None
    if not (isinstance(op, ir.Op) and op.rule.name == "numpy.sum" and len(op.args) == 1):
        return None
    axis, keepdims = op.keywords.get("axis"), op.keywords.get("keepdims")
    if set(op.keywords) - {"axis", "keepdims"} or not (isinstance(keepdims, ast.Constant) and keepdims.value is True):
        return None
    if int_axis(axis) is None:
        return None
    assert axis is not None
    return op.args[0], axis


def _exp_operand(node: ir.Node, definitions: dict[str, ir.Stage]) -> ir.Node | None:
    """`s` when `node` is `np.exp(s)`, inline or staged."""
    if isinstance(node, ir.Leaf) and _whole(node) and node.var in definitions:
        node = definitions[node.var].value
    if isinstance(node, ir.Op) and node.rule.name == "numpy.exp" and len(node.args) == 1:
        return node.args[0]
    return None


def _same(a: ir.Node, b: ir.Node) -> bool:
    return isinstance(a, ir.Leaf) and isinstance(b, ir.Leaf) and _whole(a) and _whole(b) and a.var == b.var


def _same_exp(a: ir.Node, b: ir.Node, definitions: dict[str, ir.Stage]) -> bool:
    """Both `np.exp(s)` of the same `s` (`np.exp(s) / np.sum(np.exp(s), ...)`)."""
    x, y = _exp_operand(a, definitions), _exp_operand(b, definitions)
    return x is not None and y is not None and _same(x, y)


def _whole(node: ir.Node) -> bool:
    return isinstance(node, ir.Leaf) and node.var is not None and node.index is None


def _slot(i: int) -> ast.Name:
    return ast.Name(f"__{i}__", ast.Load())


# ---- cross-entropy ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    """What deciding that picks cover the rows reads: the top-level stages and plain
    bindings, names as numpy's, and the kinds' word on the labels."""

    definitions: dict[str, ir.Stage]
    plains: dict[str, ast.expr]
    resolve: Resolve
    is_vector: IsVector


Fuse = Callable[[ir.Op, _Rows], "ir.Op | None"]


def _with_cross_entropy(node: ir.Node, rows: _Rows, fuse: Fuse) -> ir.Node:
    if isinstance(node, ir.Leaf):
        return node
    fused = fuse(node, rows)
    if fused is not None:
        return fused
    node.args = [_with_cross_entropy(a, rows, fuse) for a in node.args]
    return node


def _cross_entropy(node: ir.Op, rows: _Rows) -> ir.Op | None:
    """The fused operation for `-np.sum(...)` (or `-np.mean(...)`) of picked
    log-probabilities, or None."""
    if not (node.rule.name in ("neg", "numpy.neg") and len(node.args) == 1):
        return None
    total = node.args[0]
    if not (isinstance(total, ir.Op) and total.rule.name in _TOTALS and not total.keywords and len(total.args) == 1):
        return None
    picked = total.args[0]
    if isinstance(picked, ir.Leaf) and _whole(picked) and picked.var in rows.definitions:
        picked = rows.definitions[picked.var].value  # `lp = np.log(p[rows, y])` staged
    if isinstance(picked, ir.Op) and picked.rule.name == "numpy.log" and len(picked.args) == 1:
        leaf, names = picked.args[0], _SOFTMAX
    else:
        leaf, names = picked, _LOG_SOFTMAX
    operands = _picked_rows(leaf, names, rows)
    loose = operands is None and total.rule.name == "numpy.sum"
    if loose:
        operands = _picked_rows(leaf, names, rows, loose=True)
    if operands is None:
        return None
    assert isinstance(leaf, ir.Leaf) and isinstance(leaf.index, ast.Tuple)
    probs = ast.Name(operands[0].var or "", ast.Load())
    name = "numpy.softmax_nll" if names is _SOFTMAX else "numpy.log_softmax_nll"
    keywords = {"probs" if names is _SOFTMAX else "logp": probs, "axis": ast.Constant(1)}
    if loose:
        name += ".picks"
        keywords |= {"rows": ir.clone(leaf.index.elts[0]), "labels": ir.clone(leaf.index.elts[1])}
    fused = ir.Op(RULES[name], list(operands[1:]), keywords, ir.render(node))
    if total.rule.name == "numpy.sum":
        return fused
    # The mean over one pick a row: the sum over the N rows, divided by N.
    assert isinstance(leaf.index, ast.Tuple) and isinstance(leaf.index.elts[0], ast.Call)
    count = ir.Leaf(ir.clone(leaf.index.elts[0].args[0]))
    return ir.Op(RULES["div"], [fused, count], {}, ir.render(node))


def _log_pick(node: ir.Op, rows: _Rows) -> ir.Op | None:
    """`np.log(p[rows, y])` of a softmax `p` of `s` along axis 1, `rows` covering its
    rows once each, as one operation of `s`, where no whole cross-entropy takes it."""
    if not (node.rule.name == "numpy.log" and len(node.args) == 1):
        return None
    operands = _picked_rows(node.args[0], _SOFTMAX, rows)
    if operands is None:
        return None
    keywords = {"probs": ast.Name(operands[0].var or "", ast.Load()), "axis": ast.Constant(1)}
    return ir.Op(RULES["numpy.softmax_log_pick"], list(operands[1:]), keywords, ir.render(node))


def _picked_rows(
    leaf: ir.Node, names: tuple[str, ...], rows: _Rows, loose: bool = False
) -> tuple[ir.Leaf, ir.Leaf, ir.Leaf] | None:
    """(p, s, s[rows, y]) when `leaf` is `p[rows, y]`, p one of `names` (a softmax or
    a log-softmax) of the logits s along axis 1, rows covering its rows once each
    (`loose`: y may pick a row more than once, so the picks' gradients add up)."""
    definitions = rows.definitions
    if not (isinstance(leaf, ir.Leaf) and leaf.var in definitions and leaf.index is not None):
        return None
    softmax = definitions[leaf.var].value
    if not (isinstance(softmax, ir.Op) and softmax.rule.name in names and _axis(softmax) == 1):
        return None
    logits = _softmax_logits(softmax, definitions)
    if logits is None or not _covers_rows(leaf.index, logits, rows, loose):
        return None
    assert logits.var is not None
    index = ir.clone(leaf.index)
    picks = ir.Leaf(ast.Subscript(ast.Name(logits.var, ast.Load()), index, ast.Load()), logits.var, ir.clone(index), basic=not loose)
    return leaf, ir.Leaf(ast.Name(logits.var, ast.Load()), logits.var), picks


def _softmax_logits(softmax: ir.Op, definitions: dict[str, ir.Stage]) -> ir.Leaf | None:
    """The `s` of softmax(s): the operand of a log-softmax, the exponent of a softmax."""
    operand = softmax.args[0]
    if softmax.rule.name in _SOFTMAX:
        exp = _exp_operand(operand, definitions)
        if exp is None:
            return None
        operand = exp
    return operand if isinstance(operand, ir.Leaf) and _whole(operand) else None


def _covers_rows(index: ast.expr, logits: ir.Leaf, found: _Rows, loose: bool = False) -> bool:
    """Whether `index` is `(rows, y)` with `rows` each row of `logits` once, in order,
    and one label `y` a row (labels of shape (N, 1) would pick N times a row; `loose`:
    whatever y's shape, rows broadcast against it then pick every row equally often)."""
    definitions, plains = found.definitions, found.plains
    if not (isinstance(index, ast.Tuple) and len(index.elts) == 2):
        return False
    rows, columns = index.elts
    if isinstance(columns, (ast.Slice, ast.Starred)) or (isinstance(columns, ast.Constant) and columns.value is None):
        return False
    if not loose and not found.is_vector(columns):
        return False
    if not (isinstance(rows, ast.Call) and len(rows.args) == 1 and not rows.keywords):
        return False
    if found.resolve(rows.func) not in ("numpy.arange", "range"):
        return False
    count = rows.args[0]
    if isinstance(count, ast.Name) and count.id in plains:
        count = plains[count.id]
    sources = _row_sources(logits, definitions)
    source = _row_count_of(count)
    if source is not None and source in sources:
        return True
    # `np.arange(N * T)` of the rows of `x.reshape(N * T, V)`, each name bound once.
    if not all(n.id in plains for n in ast.walk(count) if isinstance(n, ast.Name)):
        return False
    return any(_reshaped_rows(definitions.get(name), count) for name in sources)


def _reshaped_rows(stage: ir.Stage | None, count: ast.expr) -> bool:
    """Whether `stage` is a reshape to `(count, ...)`."""
    op = stage.value if stage is not None else None
    if not (isinstance(op, ir.Op) and op.rule.name == "numpy.reshape"):
        return False
    shape = op.keywords.get("shape")
    return isinstance(shape, ast.Tuple) and len(shape.elts) > 1 and ast.dump(shape.elts[0]) == ast.dump(count)


def _row_count_of(expr: ast.expr) -> str | None:
    """`v` when `expr` is `v.shape[0]` or `len(v)`."""
    if (
        isinstance(expr, ast.Subscript)
        and isinstance(expr.slice, ast.Constant)
        and expr.slice.value == 0
        and isinstance(expr.value, ast.Attribute)
        and expr.value.attr == "shape"
        and isinstance(expr.value.value, ast.Name)
    ):
        return expr.value.value.id
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len" and len(expr.args) == 1:
        argument = expr.args[0]
        return argument.id if isinstance(argument, ast.Name) else None
    return None


def _row_sources(logits: ir.Leaf, definitions: dict[str, ir.Stage]) -> set[str]:
    """The names whose rows are the logits' rows: the logits and what they are computed
    from through elementwise operations (their first array operand), shifts and
    products (their left operand)."""
    found: set[str] = set()
    node: ir.Node | None = logits
    while node is not None:
        if isinstance(node, ir.Leaf):
            if not _whole(node) or node.var in found:
                return found
            assert node.var is not None
            found.add(node.var)
            stage = definitions.get(node.var)
            node = stage.value if stage is not None else None
            continue
        node = _row_operand(node)
    return found


def _row_operand(op: ir.Op) -> ir.Node | None:
    if op.rule.name in _ROW_KEEPING or (op.rule.kind == "elementwise" and op.rule.name.startswith("numpy.")):
        for arg in op.args:
            if not (isinstance(arg, ir.Leaf) and arg.var is None):  # a constant such as ReLU's 0
                return arg
    return None


def _axis(op: ir.Op) -> int | None:
    return int_axis(op.keywords.get("axis"))


def int_axis(axis: ast.expr | None) -> int | None:
    """The int an axis is written as (`1`, `-1`), or None."""
    if isinstance(axis, ast.UnaryOp) and isinstance(axis.op, ast.USub) and isinstance(axis.operand, ast.Constant):
        value = axis.operand.value
        return -value if type(value) is int else None
    return axis.value if isinstance(axis, ast.Constant) and type(axis.value) is int else None


def _plain_bindings(body: list[ir.Statement]) -> dict[str, ast.expr]:
    """Names the top level binds once, in plain code, to a value (`N = x.shape[0]`;
    `N, D = x.shape` binds `N` to `x.shape[0]` and `D` to `x.shape[1]`)."""
    found: dict[str, ast.expr] = {}
    counts: dict[str, int] = {}
    for statement in ir.walk(body):
        targets: list[ast.expr] = []
        if isinstance(statement, ir.Plain) and isinstance(statement.code, ast.Assign):
            targets = statement.code.targets
        elif isinstance(statement, ir.Plain) and isinstance(statement.code, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.code.target]
        elif isinstance(statement, (ir.Stage, ir.Append)):
            counts[statement.target] = counts.get(statement.target, 0) + 1
        elif isinstance(statement, ir.Loop) and statement.var is not None:
            counts[statement.var] = counts.get(statement.var, 0) + 1
        for target in targets:
            for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                counts[name] = counts.get(name, 0) + 1
    for statement in body:
        if not (isinstance(statement, ir.Plain) and isinstance(statement.code, ast.Assign)):
            continue
        code = statement.code
        if len(code.targets) != 1:
            continue
        target = code.targets[0]
        if isinstance(target, ast.Name):
            found[target.id] = code.value
        elif isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
            value = code.value
            if isinstance(value, ast.Attribute) and value.attr == "shape":
                for k, element in enumerate(target.elts):
                    if isinstance(element, ast.Name):
                        found[element.id] = ast.Subscript(value, ast.Constant(k), ast.Load())
    return {name: value for name, value in found.items() if counts.get(name) == 1}
