"""Facts about the parameters of the function being lowered: which are differentiated
(and why the others are not), the shapes their annotations declare, what the kinds
prove them to be, and which may be lists that numpy reads as arrays."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.infer import bindings, lattice
from codegen.infer.dims import Shape, parse_dims
from codegen.infer.shapes import SCALAR
from codegen.lower.nodes import is_number_literal, parameters

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Signature:
    """The parameters, read into the tables of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose tables the parameters' facts go into

    def params(self) -> list[ir.Param]:
        params: list[ir.Param] = []
        for param, default, kind in parameters(self.n.function.args):
            name = param.arg
            annotation = self.n.info.code(param.annotation).strip() if param.annotation else ""
            reason = ""
            if annotation in _CONSTANT_ANNOTATIONS or _truth_or_int_array(param.annotation):
                reason = f"annotated {annotation}"
            elif default is not None:
                reason = "has a default value"
            elif self.n.kinds_of(self.n.function).param(name).what == lattice.SETTING:
                reason = "a dict of settings"
            elif name in self.n.kinds_of(self.n.function).sizes:
                reason = "used as a size"
            elif name in self.n.kinds_of(self.n.function).masks:
                reason = "used as a mask or index"
            if self.n.wrt is not None:
                reason = "" if name in self.n.wrt else "not listed in wrt"
                if name in self.n.wrt and self.n.kinds_of(self.n.function).param(name).what == lattice.SETTING:
                    raise self.n.fail(param, (
                        f"{name} is a dict: codegen differentiates numbers, lists and arrays, not a dict's entries; "
                        f"pass its entries as parameters (def {self.n.function.name}(W1, b1, ...)) and list those in wrt, "
                        f"or leave {name} out of wrt (a dict is held constant)"
                    ))  # fmt: skip
            code = self.param_code(param, default)
            is_list = annotation.startswith(("list", "List"))
            dims = annotation_dims(param.annotation) if param.annotation else None
            if dims is not None:
                self.n.dims.shapes[name] = dims
            declared = declared_shape(param.annotation) if param.annotation else None
            if declared is not None and not _is_none(default):
                self.n.annotated[name] = declared
            if annotation in ("int", "float", "bool"):
                self.n.declared.add(name)
            if annotation == "int":
                self.n.ints.add(name)  # an index like a size: x[:, n] selects, never gathers
            if annotation in ("int", "float", "bool"):
                self.n.numbers.add(name)
            inferred = self.n.kinds_of(self.n.function).param(name)
            if _is_number_default(default) and inferred.what == lattice.UNKNOWN:
                self.n.numbers.add(name)  # taken to be a number, as its default is (the output checks it)
                self.n.by_default.append(name)
            if inferred.is_number:
                self.n.numbers.add(name)
                self.n.shapes.keys[name] = SCALAR
            elif inferred.what == lattice.ARRAY and inferred.rank is not None:
                self.n.ranks.ranks[name] = inferred.rank
            is_list = is_list or inferred.what == lattice.LIST
            params.append(ir.Param(name, code, not reason, reason, is_list, kind))
            self.n.env[name] = name
            self.n.bound.add(name)
            self.n.param_names.add(name)
            if not reason:
                self.n.active.add(name)
        return params

    def param_code(self, param: ast.arg, default: ast.expr | None) -> str:
        """The parameter as written: `x`, `w: "3"`, `reg=0.1`."""
        info = self.n.info
        if default is None or param.end_lineno is None or default.end_lineno is None or default.end_col_offset is None:
            code = info.code(param)
            return code if default is None else f"{code}={info.code(default)}"
        return info.span(param.lineno, param.col_offset, default.end_lineno, default.end_col_offset)

    def array_likes(self, params: list[ir.Param]) -> set[str]:
        """The parameters that may be lists numpy reads as arrays: of no proved
        array or number kind, and only passed to calls or read element by element."""
        kinds = self.n.kinds_of(self.n.function)
        unsettled = {p.name for p in params if kinds.param(p.name).what in (lattice.UNKNOWN, lattice.SEQUENCE, lattice.LIST)}
        return bindings.read_only_by_calls(self.n.function, unsettled) if self.n.arrays else set()


_CONSTANT_ANNOTATIONS = {"int", "bool", "str"}
# jaxtyping's dtypes of arrays that hold no differentiable value: a mask, indices.
_CONSTANT_DTYPES = {"Bool", "Int", "Integer", "UInt"}


def _truth_or_int_array(annotation: ast.expr | None) -> bool:
    """`mask: Bool[np.ndarray, "N"]`, `idx: jaxtyping.Int[np.ndarray, "K"]`."""
    if not isinstance(annotation, ast.Subscript):
        return False
    head = annotation.value
    name = head.attr if isinstance(head, ast.Attribute) else head.id if isinstance(head, ast.Name) else ""
    return name in _CONSTANT_DTYPES


def annotation_dims(annotation: ast.expr) -> Shape | None:
    """The symbolic shape a parameter annotation names, if any (`float` is a scalar)."""
    if isinstance(annotation, ast.Name) and annotation.id == "float":
        return ()
    return declared_shape(annotation)


def declared_shape(annotation: ast.expr) -> Shape | None:
    """The shape a string annotation declares: `"N D"`, `Float[np.ndarray, "N D"]`."""
    if isinstance(annotation, ast.Subscript):
        index = annotation.slice
        if isinstance(index, ast.Tuple) and len(index.elts) == 2 and not isinstance(index.elts[1], ast.Slice):
            annotation = index.elts[1]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return parse_dims(annotation.value)
    return None


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_number_default(node: ast.expr | None) -> bool:
    """`1e-5`, `-1.0`: a default that is a number."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return is_number_literal(node)
