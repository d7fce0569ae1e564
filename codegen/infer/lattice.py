"""The kinds a value can be, and how evidence about them combines: `refine` for
two facts about one value, `join` for the values a name is bound to, and what
annotations and operations (arithmetic, products, iteration) say."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codegen.infer.dims import parse_dims
from codegen.infer.shape_rules import product_rank

NUMBER = "number"  # a Python number, or a numpy scalar: no dimensions


SEQUENCE = "sequence"  # indexed element by element: a list of numbers, or a vector


LIST = "list"  # a Python list or tuple of numbers


ARRAY = "array"


SETTING = "setting"  # a dict or object of hyper-parameters


UNKNOWN = "unknown"


@dataclass(frozen=True)
class Kind:
    """What one value is; `rank` is an array's number of dimensions where known,
    `length` a list's where annotated."""

    what: str = UNKNOWN
    rank: int | None = None
    length: int | None = None

    def __str__(self) -> str:
        if self.what == ARRAY and self.rank is not None:
            return f"array[{self.rank}]"
        if self.what == LIST and self.length is not None:
            return f"list[{self.length}]"
        return self.what

    @property
    def is_number(self) -> bool:
        return self.what == NUMBER

    @property
    def is_sequence(self) -> bool:
        """A list, or something read element by element that no array evidence reached."""
        return self.what in (LIST, SEQUENCE)


NUMBER_KIND = Kind(NUMBER)


UNKNOWN_KIND = Kind()


def refine(old: Kind, new: Kind) -> Kind | None:
    """The kind both `old` and `new` describe; None when they contradict."""
    if old == new or new.what == UNKNOWN:
        return old
    if old.what == UNKNOWN:
        return new
    pair = {old.what, new.what}
    if pair == {SEQUENCE, LIST}:
        return old if old.what == LIST else new
    if pair == {SEQUENCE, ARRAY}:
        array = old if old.what == ARRAY else new
        return Kind(ARRAY, 1) if array.rank in (None, 1) else None
    if old.what == new.what:
        if _differ(old.rank, new.rank) or _differ(old.length, new.length):
            return None
        return Kind(old.what, _either(old.rank, new.rank), _either(old.length, new.length))
    if pair == {NUMBER, ARRAY}:
        array = old if old.what == ARRAY else new
        return NUMBER_KIND if array.rank in (None, 0) else None
    return None


def _differ(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and a != b


def _either(a: int | None, b: int | None) -> int | None:
    return a if a is not None else b


def join(kinds: list[Kind]) -> Kind:
    """What a name merged from several bindings is: their common kind, if any."""
    first = kinds[0] if kinds else UNKNOWN_KIND
    if all(k == first for k in kinds):
        return first
    if all(k.what == ARRAY for k in kinds):
        return Kind(ARRAY)
    if all(k.what == LIST for k in kinds):
        return Kind(LIST)  # of lengths that differ
    if all(k.is_sequence or k.what == ARRAY and k.rank == 1 for k in kinds):
        return Kind(SEQUENCE)  # a list or a vector
    return UNKNOWN_KIND


def annotation_kind(annotation: ast.expr | None) -> Kind:
    """What a parameter annotation says: `float`, `int`, `list[float]`, `np.ndarray`,
    `"N D"`, `Float[np.ndarray, "N D"]`."""
    if annotation is None:
        return UNKNOWN_KIND
    if isinstance(annotation, ast.Name) and annotation.id in ("float", "int", "bool", "complex"):
        return NUMBER_KIND
    if isinstance(annotation, ast.Name) and annotation.id in ("list", "List", "tuple", "Sequence"):
        return Kind(LIST)
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        base = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if base in ("list", "List", "tuple", "Tuple", "Sequence"):
            items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            numbers = all(isinstance(i, ast.Name) and i.id in ("float", "int", "bool") or isinstance(i, ast.Constant) and i.value is Ellipsis for i in items)
            return Kind(LIST) if numbers else UNKNOWN_KIND  # `list[np.ndarray]` is no list of numbers
        if base in ("dict", "Dict", "Mapping"):
            return Kind(SETTING)
        index = annotation.slice
        if isinstance(index, ast.Tuple) and len(index.elts) == 2:
            shape = _shape_kind(index.elts[1])
            if shape.what == SEQUENCE and _is_array_type(index.elts[0]):
                return Kind(ARRAY, 1)  # `Float[np.ndarray, "N"]`: a vector, never a list
            return shape
        if base in ("NDArray", "ndarray", "ArrayLike"):
            return Kind(ARRAY)
    if isinstance(annotation, ast.Attribute) and annotation.attr in ("ndarray", "NDArray"):
        return Kind(ARRAY)
    if isinstance(annotation, ast.Name) and annotation.id in ("dict", "Dict"):
        return Kind(SETTING)
    return _shape_kind(annotation)


def _is_array_type(annotation: ast.expr) -> bool:
    """`np.ndarray`, `ndarray`, `NDArray[...]`: jaxtyping's array type."""
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    name = annotation.attr if isinstance(annotation, ast.Attribute) else getattr(annotation, "id", "")
    return name in ("ndarray", "NDArray", "Array")


def _shape_kind(annotation: ast.expr) -> Kind:
    if not (isinstance(annotation, ast.Constant) and isinstance(annotation.value, str)):
        return UNKNOWN_KIND
    dims = parse_dims(annotation.value)
    if dims is None:
        return UNKNOWN_KIND
    if len(dims) == 1:  # `w: "3"`: a list of three numbers, or a vector
        return Kind(SEQUENCE, length=dims[0] if isinstance(dims[0], int) else None)
    return NUMBER_KIND if not dims else Kind(ARRAY, len(dims))


def arithmetic(*operands: Kind) -> Kind:
    """What arithmetic (or a comparison) of values of these kinds gives: a number
    from numbers, an array where one is an array and the rest numbers."""
    if all(k.is_number for k in operands):
        return NUMBER_KIND
    if any(k.what == ARRAY for k in operands) and all(k.what in (ARRAY, NUMBER) for k in operands):
        ranks = [k.rank if k.what == ARRAY else 0 for k in operands]
        return Kind(ARRAY, None if None in ranks else max(r for r in ranks if r is not None))
    return UNKNOWN_KIND


def joined(op: ast.operator, left: Kind, right: Kind) -> Kind | None:
    """What `left + right` or `left * right` is where Python's list operators
    take it: a list of two lists concatenated, a list repeated by a number;
    None where they do not (numpy's arithmetic, or nothing the kinds prove)."""
    if isinstance(op, ast.Add) and left.what == LIST and right.what == LIST:
        both = None if left.length is None or right.length is None else left.length + right.length
        return Kind(LIST, length=both)
    if isinstance(op, ast.Mult) and {left.what, right.what} == {LIST, NUMBER}:
        return Kind(LIST)
    return None


def product(left: Kind, right: Kind, stacked: bool) -> Kind:
    """What `left @ right` (`stacked`) or `np.dot(left, right)` is, by the ranks
    of its operands: a number of two vectors, a vector of a matrix and a vector."""
    left, right = (Kind(ARRAY, 1) if k.is_sequence else k for k in (left, right))  # numpy reads a list as a vector
    if left.what != ARRAY or right.what != ARRAY or left.rank is None or right.rank is None:
        return Kind(ARRAY) if stacked or ARRAY in (left.what, right.what) else UNKNOWN_KIND
    if left.rank == right.rank == 1:
        return NUMBER_KIND
    return Kind(ARRAY, product_rank(left.rank, right.rank, stacked))


def phrase(kind: Kind) -> str:
    return {
        NUMBER: "a number",
        SEQUENCE: "a sequence of numbers",
        LIST: "a list",
        ARRAY: "an array" if kind.rank is None else f"an array of {kind.rank} dimensions",
        SETTING: "a dict of settings",
    }.get(kind.what, "a value of unknown kind")


def element_of(kind: Kind) -> Kind:
    """What iterating over a value of `kind` gives: a number of a list or a vector,
    a row of a matrix."""
    if kind.is_sequence or kind.what == ARRAY and kind.rank == 1:
        return NUMBER_KIND
    if kind.what == ARRAY and kind.rank is not None and kind.rank > 1:
        return Kind(ARRAY, kind.rank - 1)
    return UNKNOWN_KIND
