"""What operations compute: the kind of a value from the kinds of its operands
(down, from operands to results: `math.exp(...)` is a number, `x @ w` an array,
a number times a number a number), and the kinds of the module's constants."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen.ad.rules import RULES
from codegen.infer import shape_rules
from codegen.infer.bindings import module_values, number_index
from codegen.infer.lattice import ARRAY, LIST, NUMBER_KIND, UNKNOWN, UNKNOWN_KIND, Kind, arithmetic, join, joined, product
from codegen.read import resolve

if TYPE_CHECKING:
    from codegen.infer.kinds import Inference


# Names of math and numpy that are numbers (`math.pi`, `np.inf`, `from math import e`).
NUMBER_CONSTANTS = frozenset(
    f"{module}.{name}" for module in ("math", "numpy") for name in ("pi", "e", "tau", "inf", "nan", "euler_gamma")
)


ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)


def compute(inference: Inference, node: ast.expr) -> Kind:
    if isinstance(node, ast.Constant):
        return NUMBER_KIND if type(node.value) in (int, float, bool) else UNKNOWN_KIND
    if isinstance(node, ast.Name):
        kind = inference.names.get(node.id, UNKNOWN_KIND)
        if inference.about(node) is not None:
            return kind
        if node.id in inference.params:  # rebound: what the parameter and every rebinding are
            return inference.rebound.get(node.id, UNKNOWN_KIND)
        if node.id in inference.merged:
            return kind
        if node.id in inference.params or node.id in inference.definitions or node.id in inference.elements:
            return UNKNOWN_KIND
        return module_kind(inference, node)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.MatMult):
            return product(inference.forward(node.left), inference.forward(node.right), stacked=True)
        left, right = inference.forward(node.left), inference.forward(node.right)
        return joined(node.op, left, right) or arithmetic(left, right)
    if isinstance(node, ast.Compare):
        return arithmetic(*(inference.forward(o) for o in (node.left, *node.comparators)))
    if isinstance(node, ast.UnaryOp):
        return inference.forward(node.operand) if not isinstance(node.op, ast.Not) else UNKNOWN_KIND
    if isinstance(node, ast.Call):
        name = inference.callee(node)
        if name.startswith("math.") or name in ("len", "int", "float", "round"):
            return NUMBER_KIND
        if resolve.draws_a_number(node, inference.info, {}):
            return NUMBER_KIND
        if name in ("abs",) and node.args:
            return inference.forward(node.args[0])
        if name == "pow" and len(node.args) == 2:
            return arithmetic(*(inference.forward(a) for a in node.args))
        if name in ("max", "min") and len(node.args) >= 2:
            return NUMBER_KIND
        if name == "sum" and len(node.args) == 1 and not node.keywords and inference.forward(node.args[0]).is_sequence:
            return NUMBER_KIND  # of a list of numbers, or of a vector
        if name.startswith("numpy.") and name in resolve.CONSTANT_FUNCTIONS and name not in ("numpy.shape", "numpy.ndim", "numpy.size"):
            return Kind(ARRAY) if name != "numpy.random." else UNKNOWN_KIND
        if reduces_everything(node, name):
            return NUMBER_KIND
        if name.startswith("user.") and not isinstance(node.func, ast.Attribute):
            return inference.returned_kind(name)
        row = RULES.get(name)
        if row is not None and row.shape == "broadcast" and node.args and not node.keywords:
            return arithmetic(*(inference.forward(a) for a in node.args))
        return shaped(inference, node, name)
    if isinstance(node, ast.Subscript):
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "shape":
            return NUMBER_KIND
        if isinstance(value, (ast.List, ast.Tuple)) and value.elts and number_index(node.slice):
            return join([inference.forward(e) for e in value.elts])  # `[z, z][1]`: one of its items
        base = inference.forward(value)
        if base.is_sequence and number_index(node.slice):
            return NUMBER_KIND
        if (base.is_sequence or base.what == ARRAY) and isinstance(node.slice, ast.Slice):
            return Kind(base.what, base.rank)  # a slice of a list is a list, of an array an array
        if base.what == ARRAY and base.rank is not None:
            return indexed(inference, base.rank, node.slice)
        return UNKNOWN_KIND
    if isinstance(node, ast.Attribute):
        if node.attr in ("ndim", "size") or inference.callee_of(node) in NUMBER_CONSTANTS:
            return NUMBER_KIND
        if node.attr in ("T", "mT"):
            inner = inference.forward(node.value)
            return inner if inner.what == ARRAY else Kind(ARRAY)
        return UNKNOWN_KIND
    if isinstance(node, ast.IfExp):
        return join([inference.forward(node.body), inference.forward(node.orelse)])
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(number_or_unknown(inference, e) for e in node.elts):
        return Kind(LIST, length=len(node.elts))  # a display of numbers
    return UNKNOWN_KIND


def shaped(inference: Inference, node: ast.Call, name: str) -> Kind:
    """A call of a numpy function or an array method whose row's shape tag gives the
    rank: a ravel, a reshape, a matrix product (`np.dot(x, w)`, `x.dot(w)`)."""
    method = name.startswith("method.") and isinstance(node.func, ast.Attribute)
    if not (method or name.startswith("numpy.")):
        return UNKNOWN_KIND
    operands = [node.func.value, *node.args] if method and isinstance(node.func, ast.Attribute) else node.args
    rule = resolve.rule_for(name, len(operands), True)
    tag = RULES[rule].shape if rule is not None else "unknown"
    if tag == "ravel" and len(operands) == 1:
        return Kind(ARRAY, 1)
    if tag == "reshape":
        return Kind(ARRAY, shape_rules.reshaped_rank(operands[1:], lambda size: is_size(inference, size)))
    if tag in ("matmul", "dot") and len(operands) == 2 and (method or not node.keywords):
        left, right = (inference.forward(a) for a in operands)
        return product(left, right, stacked=tag == "matmul")
    return UNKNOWN_KIND


def is_size(inference: Inference, size: ast.expr) -> bool:
    """A lone size of a reshape proven a number; a parameter used there may be a
    whole shape (`x.reshape(shape)`), whatever its uses say."""
    if any(isinstance(n, ast.Name) and n.id in inference.params for n in ast.walk(size)):
        return False
    return inference.forward(size).is_number


def number_or_unknown(inference: Inference, node: ast.expr) -> bool:
    """Whether `node` is a number: proved one, or where no value may be an array, not
    proved anything else."""
    kind = inference.forward(node)
    return kind.is_number or not inference.arrays and kind.what == UNKNOWN


def indexed(inference: Inference, rank: int, index: ast.expr) -> Kind:
    """`x[i]`, `x[:, j]`, `x[1:]` of an array of `rank` dimensions: each index
    proved a number takes one away, each slice keeps one; anything else (an index
    array, `None`, `...`) says nothing."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    if len(parts) > rank:
        return UNKNOWN_KIND
    taken = 0
    for part in parts:
        if isinstance(part, ast.Slice):
            continue
        if not inference.forward(part).is_number or not number_index(part):
            return UNKNOWN_KIND
        taken += 1
    return NUMBER_KIND if taken == rank else Kind(ARRAY, rank - taken)


def module_kind(inference: Inference, node: ast.Name) -> Kind:
    """A name the function does not bind: a number of math or numpy, or a
    constant of the module, bound once at its top level."""
    if inference.callee_of(node) in NUMBER_CONSTANTS:
        return NUMBER_KIND
    if inference.module_values is None:
        inference.module_values = module_values(inference.info)
    value = inference.module_values.get(node.id)
    if value is None or node.id in inference.module_seen:
        return UNKNOWN_KIND
    inference.module_seen.add(node.id)  # `A = B`, `B = A`: no kind, not a loop
    try:
        return module_value_kind(value, inference)
    finally:
        inference.module_seen.discard(node.id)


def module_value_kind(value: ast.expr, inference: Inference) -> Kind:
    """The kind of a module constant's value: numbers and arithmetic of them, the
    math and numpy numbers, calls of math functions, other such constants."""
    if isinstance(value, ast.Constant):
        return NUMBER_KIND if type(value.value) in (int, float) else UNKNOWN_KIND
    if isinstance(value, ast.Name):
        return module_kind(inference, value)
    if isinstance(value, ast.Attribute):
        return NUMBER_KIND if inference.callee_of(value) in NUMBER_CONSTANTS else UNKNOWN_KIND
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        return module_value_kind(value.operand, inference)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ARITHMETIC):
        left, right = (module_value_kind(v, inference) for v in (value.left, value.right))
        return NUMBER_KIND if left.is_number and right.is_number else UNKNOWN_KIND
    if isinstance(value, ast.Call) and inference.callee(value).startswith("math."):
        if all(module_value_kind(a, inference).is_number for a in value.args):
            return NUMBER_KIND
    return UNKNOWN_KIND


def reduces_everything(node: ast.Call, name: str) -> bool:
    """`np.sum(x)`, `x.mean()`: a reduction over every axis is a number."""
    if node.keywords and any(k.arg in ("axis", "keepdims", "out", "ord") for k in node.keywords):
        return False
    method = name.startswith("method.")
    if not (method or name.startswith("numpy.")) or len(node.args) != int(not method):
        return False
    rule = resolve.rule_for(name, 1, True)
    return rule is not None and RULES[rule].shape == "reduce"
