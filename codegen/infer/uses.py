"""The evidence from uses: what a use says of its operands (up, from uses to
operands: the argument of a `math` function is a number; `N, D = x.shape` makes
`x` a matrix; `x.T`, `x @ w` and array methods make `x` an array; `p["eps"]` and
`p.get(...)` make `p` a setting; the arguments of a module function are what its
own code says its parameters are)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen.ad import operations
from codegen.emit import helpers
from codegen.infer.bindings import pairs
from codegen.infer.lattice import ARRAY, LIST, NUMBER_KIND, SETTING, UNKNOWN, UNKNOWN_KIND, Kind, arithmetic, element_of, joined, refine
from codegen.read import resolve

if TYPE_CHECKING:
    from codegen.infer.kinds import Inference


_SETTING_METHODS = frozenset({"get", "keys", "items", "values", "setdefault"})


# Calls whose arguments from this position on are sizes (shapes, counts, bounds).
_SIZED: dict[str, tuple[int, int | None]] = {
    "range": (0, None), "numpy.arange": (0, None), "numpy.zeros": (0, 1), "numpy.ones": (0, 1),
    "numpy.empty": (0, 1), "numpy.full": (0, 1), "numpy.eye": (0, 2), "numpy.identity": (0, 1),
    "numpy.reshape": (1, 2), "numpy.tile": (1, 2), "numpy.repeat": (1, 2),
}  # fmt: skip


_SIZED_METHODS: dict[str, tuple[int, int | None]] = {"reshape": (0, None), "repeat": (0, 1)}


_NO_LISTS = (ast.Sub, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)  # operators no list takes


_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_BITWISE = (ast.BitAnd, ast.BitOr, ast.BitXor)
# Calls whose arguments are truth values.
_LOGICAL = frozenset({"numpy.logical_and", "numpy.logical_or", "numpy.logical_xor", "numpy.logical_not"})


def visit(inference: Inference, node: ast.AST) -> None:
    if isinstance(node, ast.expr):
        kind = inference.forward(node)
        if kind.what != UNKNOWN:
            inference.expect(node, kind)
    if isinstance(node, ast.Call):
        visit_call(inference, node)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        inference.expect(node.left, Kind(ARRAY))
        inference.expect(node.right, Kind(ARRAY))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)) and not inference.arrays:
        expect_joined(inference, node)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, _NO_LISTS) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        for operand in (node.left, node.right) if isinstance(node, ast.BinOp) else (node.operand,):
            if isinstance(operand, ast.BinOp) and {id(operand.left), id(operand.right)} & inference.added:
                # `(y[1:] + y[:-1]) / 2`: no list takes `/`, so the slices added are an array's.
                for part in (operand.left, operand.right):
                    if isinstance(part, ast.Subscript):
                        inference.expect(part.value, Kind(ARRAY))
    elif isinstance(node, ast.Attribute) and node.attr in operations.ARRAY_ATTRIBUTES:
        if not (isinstance(node.value, ast.Name) and node.value.id in inference.info.aliases):
            inference.expect(node.value, Kind(ARRAY))
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            inference.expect(node.value, Kind(SETTING))
        elif inference.arrays and (isinstance(key, ast.Tuple) or isinstance(key, ast.Slice) and id(node) not in inference.added):
            # A list takes neither `x[i, j]` nor `x[None, :]`; a slice is read as an array's, unless added
            # to a list or of a value proved a list (`x: list[float]`, then `x[1:]`).
            if isinstance(key, ast.Tuple) or inference.forward(node.value).what != LIST:
                inference.expect(node.value, Kind(ARRAY))
        for part in key.elts if isinstance(key, ast.Tuple) else [key]:
            expect_mask(inference, part)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        expect_mask(inference, node.operand)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, _BITWISE):
        expect_mask(inference, node.left)
        expect_mask(inference, node.right)
    elif isinstance(node, (ast.If, ast.While)):
        expect_compared(inference, node.test)
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        for name, value in pairs(target, node.value):
            if name in inference.definitions:
                inference.learn(name, bound_kind(inference, name, value), node)
        visit_unpacking(inference, target, node.value)
        visit_returned(inference, target, node.value)
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        before = before_update(inference, node)
        added = inference.forward(node.value)
        kind = Kind(ARRAY) if isinstance(node.op, ast.MatMult) else joined(node.op, before, added) or arithmetic(before, added)
        expect_statement(inference, node, kind)
    elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
        name = node.target.id
        if name in inference.elements:
            inference.learn(name, element_of(inference.forward(node.iter)), node)
        elif name in inference.definitions:  # a counter over range(...)
            inference.learn(name, inference.forward(inference.definitions[name]), node)


def bound_kind(inference: Inference, name: str, value: ast.expr) -> Kind:
    """What `name = value`, its one binding, makes `name`: a display is a list of
    numbers if its items and every value appended to it are numbers, and nothing
    else holds it."""
    if not isinstance(value, (ast.List, ast.Tuple)):
        return inference.forward(value)
    appended = inference.appended.get(name)
    if not appended:
        return UNKNOWN_KIND if appended is None else inference.forward(value)
    if not all(inference.forward(v).is_number for v in [*value.elts, *appended]):
        return UNKNOWN_KIND
    return Kind(LIST)


def expect_joined(inference: Inference, node: ast.BinOp) -> None:
    """Where no value may be an array, a list added to a value makes it a list
    (a number plus a list is a TypeError), and a list multiplied by one a number."""
    left, right = inference.forward(node.left), inference.forward(node.right)
    for one, other in ((left, node.right), (right, node.left)):
        if one.what == LIST:
            inference.expect(other, Kind(LIST) if isinstance(node.op, ast.Add) else NUMBER_KIND)


def before_update(inference: Inference, node: ast.AugAssign) -> Kind:
    """What the name an augmented assignment updates holds before it: a
    parameter at its first rebinding, or what every binding of a local is."""
    assert isinstance(node.target, ast.Name)
    name = node.target.id
    if name in inference.params:
        first = node is inference.top and inference.statement_index == inference.stable_until[name] + 1
        return inference.names.get(name, UNKNOWN_KIND) if first else UNKNOWN_KIND
    return inference.names.get(name, UNKNOWN_KIND) if name in inference.merged else UNKNOWN_KIND


def expect_statement(inference: Inference, node: ast.stmt, kind: Kind) -> None:
    """The value an (augmented) assignment binds is of `kind`."""
    old = inference.nodes.get(id(node), UNKNOWN_KIND)
    new = refine(old, kind)
    if new is not None and new != old:
        inference.nodes[id(node)] = new
        inference.changed = True


def visit_call(inference: Inference, node: ast.Call) -> None:
    func = node.func
    name = inference.callee(node)
    sized = _SIZED_METHODS.get(name[len("method."):]) if name.startswith("method.") else _SIZED.get(name)
    if sized is not None:
        arguments = node.args[sized[0] : sized[1]] + [k.value for k in node.keywords if k.arg in ("shape", "newshape")]
        for argument in arguments:
            expect_size(inference, argument)
    if name in _LOGICAL:
        for arg in node.args:
            expect_mask(inference, arg)
    if name.startswith("math.") and name not in resolve.CONSTANT_FUNCTIONS:
        for arg in node.args:
            inference.expect(arg, NUMBER_KIND)
    elif name.startswith("method.") and isinstance(func, ast.Attribute):
        if operations.proves_array(func.attr):
            inference.expect(func.value, Kind(ARRAY))
        elif func.attr in _SETTING_METHODS:
            inference.expect(func.value, Kind(SETTING))
    elif name == "float" and len(node.args) == 1:
        inference.expect(node.args[0], NUMBER_KIND)
    elif name in ("max", "min") and len(node.args) >= 2:
        for arg in node.args:  # comparing them: an array's truth is ambiguous
            inference.expect(arg, NUMBER_KIND)
    elif name.startswith("user.") and not isinstance(func, ast.Attribute):
        visit_user_call(inference, node, name[len("user."):])


def visit_user_call(inference: Inference, node: ast.Call, callee: str) -> None:
    """The arguments are what the callee's own code says its parameters are."""
    function = inference.info.functions.get(callee)
    if function is None or callee == inference.function.name or callee in inference.info.primitives:
        return
    if inference.info.is_generated and callee in helpers.NAMES:
        return  # our own helper, met again: a rule, not a function to read
    kinds = inference.parameter_kinds(function)
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    for param, arg in zip(params, node.args):
        inference.expect(arg, kinds.get(param, UNKNOWN_KIND))
    for keyword in node.keywords:
        if keyword.arg is not None:
            inference.expect(keyword.value, kinds.get(keyword.arg, UNKNOWN_KIND))


def expect_compared(inference: Inference, test: ast.expr) -> None:
    """`if a < b:` orders numbers (an array's truth value is ambiguous); `==` also
    compares shapes and strings, so it says nothing."""
    if isinstance(test, ast.BoolOp):
        for value in test.values:
            expect_compared(inference, value)
    elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        expect_compared(inference, test.operand)
    elif isinstance(test, ast.Compare) and all(isinstance(o, _ORDERINGS) for o in test.ops):
        operands = (test.left, *test.comparators)
        if not any(isinstance(o, ast.Constant) and isinstance(o.value, str) for o in operands):
            for operand in operands:
                inference.expect(operand, NUMBER_KIND)


def visit_returned(inference: Inference, target: ast.expr, value: ast.expr) -> None:
    """`a, c = h(3.0)` of a module function whose one return is a tuple (`return
    u, u`): each name bound only here is what the callee's code says it returns."""
    if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Call)):
        return
    found = inference.one_return(inference.callee(value))
    if found is None or not isinstance(found[0], ast.Tuple) or len(found[0].elts) != len(target.elts):
        return
    for element, returned in zip(target.elts, found[0].elts):
        if isinstance(element, ast.Name) and inference.merged.get(element.id) == [None]:
            inference.learn(element.id, found[1].of(returned), value)


def visit_unpacking(inference: Inference, target: ast.expr, value: ast.expr) -> None:
    """`N, D = x.shape`: `x` has as many dimensions as there are names, each a number."""
    if (
        isinstance(target, ast.Tuple)
        and not any(isinstance(e, ast.Starred) for e in target.elts)
        and isinstance(value, ast.Attribute)
        and value.attr == "shape"
    ):
        inference.expect(value.value, Kind(ARRAY, len(target.elts)))
        for size in target.elts:
            if isinstance(size, ast.Name) and inference.merged.get(size.id) == [None]:  # bound here only
                inference.learn(size.id, NUMBER_KIND, value)


def expect_mask(inference: Inference, node: ast.expr) -> None:
    """`node` is used where numpy needs truth values or ints (`x[mask]`, `~mask`,
    `mask & keep`, `x[idx]`): a parameter it is is a mask or an index, no value that
    varies smoothly, so it is held constant wherever else it is read (`x * mask`)."""
    if isinstance(node, ast.Name) and node.id in inference.params and inference.about(node) is not None:
        if node.id not in inference.masks:
            inference.masks.add(node.id)
            inference.changed = True


def expect_size(inference: Inference, node: ast.expr) -> None:
    """`node` is used where numpy needs an int (a shape, a count, a bound): the
    parameters it is made of are sizes, never differentiated."""
    if isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            expect_size(inference, element)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        expect_size(inference, node.left)
        expect_size(inference, node.right)
    elif isinstance(node, ast.Name) and node.id in inference.params and inference.about(node) is not None:
        inference.expect(node, NUMBER_KIND)
        if node.id not in inference.sizes:
            inference.sizes.add(node.id)
            inference.changed = True
