"""The rule-table row of `np.einsum`, in all its subscript forms.

The gradient of operand k of `np.einsum(spec, x0, ..., xn)` is itself an einsum:
the upstream gradient (with the output's subscripts) times every other operand,
summed to operand k's subscripts. Three things make that less than direct:

- a label repeated within operand k (`"ii->"`, `"ii->i"`, `"iij,j->i"`) reads a
  diagonal, and einsum cannot write one: every repeat gets a fresh label, tied to
  the first by an identity matrix (`np.eye`), so the gradient is zero off it;
- a label of operand k that nothing else has (`"ij->i"`) is broadcast back along
  its axis by a `np.ones_like(xk)` factor;
- a label of size 1 broadcasts against the same label of another operand
  (`"ij,ij->i"` of shapes (3, 1) and (3, 4)), so the gradient of an operand
  sharing a label with another is summed back to its shape (`_unbroadcast`
  returns it untouched where the shapes agree), unless the operands' shapes
  (annotations, or one value's shape) prove the sizes along it equal;
- an ellipsis broadcasts like numpy's operators do: where other operands share
  it, the gradient's ellipsis is the broadcast one and is summed back to
  operand k's with `_unbroadcast` (moving the ellipsis to the front first, when
  operand k has it elsewhere). An ellipsis the explicit output leaves out can
  only cover no dimension (numpy refuses the call otherwise), so it is dropped.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass

from codegen import ir
from codegen.ad.rules import Unsupported, defrule
from codegen.infer.dims import Dim
from codegen.infer.shapes import ShapeKeys

ELLIPSIS = "..."
Term = tuple[str, ...]  # one label per axis, "..." standing for the broadcast axes
SIZES = "__sizes__"  # the static the differentiator adds: each operand's dims, as far as known


@dataclass(frozen=True)
class Subscripts:
    """The parsed subscripts of one einsum call."""

    inputs: tuple[Term, ...]
    output: Term

    @property
    def letters(self) -> frozenset[str]:
        return frozenset(label for term in (*self.inputs, self.output) for label in term if label != ELLIPSIS)


def _term(text: str) -> Term:
    labels: list[str] = []
    rest = text
    while rest:
        if rest.startswith(ELLIPSIS):
            labels.append(ELLIPSIS)
            rest = rest[len(ELLIPSIS):]
        elif rest[0] in string.ascii_letters:
            labels.append(rest[0])
            rest = rest[1:]
        else:
            raise Unsupported(f"{text!r} is not a term of einsum subscripts (letters and one '...')")
    if labels.count(ELLIPSIS) > 1:
        raise Unsupported(f"{text!r} has more than one '...'")
    return tuple(labels)


def parse(text: str, count: int) -> Subscripts:
    """`text` as numpy reads it for `count` operands, the implicit output made explicit."""
    text = text.replace(" ", "")
    inputs_text, arrow, output_text = text.partition("->")
    if "->" in output_text or "-" in inputs_text or ">" in inputs_text:
        raise Unsupported("the subscripts have a stray '-' or '>'")
    inputs = tuple(_term(t) for t in inputs_text.split(","))
    if len(inputs) != count:
        raise Unsupported("the subscripts do not match the operands")
    labels = [label for term in inputs for label in term if label != ELLIPSIS]
    has_ellipsis = any(ELLIPSIS in term for term in inputs)
    if arrow:
        output = _term(output_text)
        if len(set(output)) != len(output):
            raise Unsupported("a label is repeated in the output")
        if set(output) - set(labels) - {ELLIPSIS}:
            raise Unsupported("an output label is in no operand")
    else:
        # numpy's implicit output: the broadcast axes, then the labels met once, sorted
        once = sorted(label for label in set(labels) if labels.count(label) == 1)
        output = ((ELLIPSIS,) if has_ellipsis else ()) + tuple(once)
    if has_ellipsis and ELLIPSIS not in output:
        inputs = tuple(tuple(label for label in term if label != ELLIPSIS) for term in inputs)
    return Subscripts(inputs, output)


def _spec(terms: list[Term], target: Term) -> str:
    return ",".join("".join(t) for t in terms) + "->" + "".join(target)


def _call(terms: list[Term], target: Term, operands: list[str], optimize: str) -> str:
    return f"np.einsum({_spec(terms, target)!r}, {', '.join(operands)}{optimize})"


def operand_sizes(shapes: ShapeKeys, operands: list[ir.Node]) -> ast.Tuple:
    """Each operand's dims, for `SIZES`: from annotations where known (a tuple), else
    its shape key (two operands with one key have one shape), else None."""
    sizes: list[ast.expr] = []
    for operand in operands:
        dims = shapes.dims.shape(operand) if shapes.dims is not None else None
        if dims is not None:
            sizes.append(ast.Tuple([ast.Constant(d) for d in dims], ast.Load()))
        else:
            sizes.append(ast.Constant(shapes.key(operand)))
    return ast.Tuple(sizes, ast.Load())


def _dims(size: ast.expr, count: int) -> list[Dim]:
    """`count` dims of one operand's entry of `SIZES`; a key's are named "key#0", ..."""
    if isinstance(size, ast.Tuple) and len(size.elts) == count:
        return [e.value if isinstance(e, ast.Constant) and isinstance(e.value, (str, int)) else None for e in size.elts]
    if isinstance(size, ast.Constant) and isinstance(size.value, str):
        return [f"{size.value}#{position}" for position in range(count)]
    return [None] * count


def _equal_labels(subscripts: Subscripts, sizes: ast.expr | None) -> frozenset[str]:
    """The labels whose size every operand having them proves the same."""
    if not isinstance(sizes, ast.Tuple) or len(sizes.elts) != len(subscripts.inputs):
        return frozenset()
    seen: dict[str, set[Dim]] = {}
    for term, size in zip(subscripts.inputs, sizes.elts):
        if ELLIPSIS in term:
            continue  # positions after it count from the end: not worth the bother
        for label, dim in zip(term, _dims(size, len(term))):
            seen.setdefault(label, set()).add(dim)
    return frozenset(
        label for label, dims in seen.items()
        if len(dims) == 1 and None not in dims and all(label not in t or ELLIPSIS not in t for t in subscripts.inputs)
    )  # fmt: skip


def gradient(subscripts: Subscripts, index: int, optimize: str = "", equal: frozenset[str] = frozenset()) -> str:
    """The gradient template of operand `index` (operands `x0`, `x1`, ..., upstream `g`);
    `equal`: labels whose sizes are known to agree in every operand (none broadcasts)."""
    term = subscripts.inputs[index]
    unused = iter(c for c in string.ascii_letters if c not in subscripts.letters)
    target: list[str] = []
    deltas: list[tuple[Term, str]] = []  # (first label, its repeat), the repeat's axis of xk
    for position, label in enumerate(term):
        if label == ELLIPSIS or label not in target:
            target.append(label)
            continue
        repeat = next(unused)
        axis = position if ELLIPSIS not in term[:position] else position - len(term)
        target.append(repeat)
        deltas.append(((label, repeat), f"np.eye(x{index}.shape[{axis}])"))
    others = [j for j in range(len(subscripts.inputs)) if j != index]
    terms = [subscripts.output] + [subscripts.inputs[j] for j in others] + [d for d, _ in deltas]
    operands = ["g"] + [f"x{j}" for j in others] + [e for _, e in deltas]
    covered = {label for t in terms for label in t}
    # A label xk shares with another operand may be 1 in either and broadcast
    # (numpy allows it). Where the output has it, the upstream's size along it is
    # the broadcast one, at least xk's; where not, the other operand may be the 1,
    # and a factor of ones gives the gradient xk's size along it.
    shared_labels = {label for j in others for label in subscripts.inputs[j] if label in term and label != ELLIPSIS}
    shared_labels -= equal
    if set(target) - covered - {ELLIPSIS} or shared_labels - set(subscripts.output):
        terms.append(tuple(target))
        operands.append(f"np.ones_like(x{index})")
    shared = any(ELLIPSIS in subscripts.inputs[j] for j in others)
    if not shared and (ELLIPSIS in target or ELLIPSIS not in subscripts.output):
        whole = _call(terms, tuple(target), operands, optimize)  # the ellipsis, if any, is xk's own
        if shared_labels:  # where xk's size along one is 1, summed back to it
            return f"_unbroadcast({whole}, np.shape(x{index}))"
        return whole
    # the gradient's ellipsis is the broadcast one: sum it back to xk's, at the front
    letters = tuple(label for label in target if label != ELLIPSIS)
    front = (ELLIPSIS, *letters)
    summed = _call(terms, front, operands, optimize)
    if ELLIPSIS not in target or target[0] == ELLIPSIS:
        return f"_unbroadcast({summed}, np.shape(x{index}))"
    like = f"np.shape({_call([tuple(target)], front, [f'x{index}'], '')})"
    return _call([front], tuple(target), [f"_unbroadcast({summed}, {like})"], "")


def _einsum(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    spec = statics.get("subscripts")
    if not (isinstance(spec, ast.Constant) and isinstance(spec.value, str)):
        raise Unsupported("the subscripts must be a literal string (the operand-list form is not supported)")
    subscripts = parse(spec.value, count)
    equal = _equal_labels(subscripts, statics.get(SIZES))
    return gradient(subscripts, index, ", optimize=optimize" if "optimize" in statics else "", equal)


defrule(
    "numpy.einsum", "", keywords="optimize=False", statics="subscripts", kind="other", shape="unknown", variadic=True,
    computed=_einsum,
)
