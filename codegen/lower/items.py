"""Reading and writing items: `x[i]`, `x[mask]`, `a[index] = v`. A read says whether
its index selects each element at most once; a write makes a new version of the
array, so that the old one and the caller's stay intact; a dict of settings passed
in is written in place, as the user's forward writes the caller's dict."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES
from codegen.infer import bindings, lattice
from codegen.infer.shapes import SCALAR
from codegen.lower.nodes import is_active_node, slot

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Items:
    """Item reads and writes, lowered into the body and tables of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose env, body and tables the items are read and written in

    def dict_item(self, node: ast.expr) -> ir.Leaf | None:
        """`val["a"]` where `val` is `dict(a=a, ...)` passed to a helper: a itself."""
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant)):
            return None
        items = self.n.dict_items.get(self.n.env.get(node.value.id, ""))
        key = node.slice.value
        return None if items is None or not isinstance(key, str) else ir.clone(items[key])

    def lower_subscript(self, node: ast.Subscript) -> ir.Node:
        parts = self.n.containers.slogdet_parts(node.value)
        if parts is not None:
            index = node.slice.value if isinstance(node.slice, ast.Constant) else None
            if index not in (0, 1, -1, -2):
                raise self.n.fail(node, "np.linalg.slogdet(a) is indexed by 0 (the sign) or 1 (the logdet)")
            return parts[1] if index in (1, -1) else parts[0]
        if self.n.appending.is_stack(node.value) and (isinstance(node.slice, ast.Tuple) or not bindings.number_index(node.slice)):
            label = self.n.info.code(node.value).strip()
            message = f"slicing a list built with append is not supported: stack it first (np.array({label})[...])"
            raise self.n.fail(node, f"{message} or index one element ({label}[i])")
        value = self.n.appending.stack_leaf(node.value) if self.n.appending.is_stack(node.value) else self.n.lower(node.value)
        if isinstance(value, ir.Op):
            display = value.rule.name == "list"
            value = self.n.staging.named(value, len(self.n.origins) - 1)
            if display:
                self.n.displays.add(value.var or "")  # `[z, z][1]`: a list, as `b = [z, z]` is
        elif self.n.arrays and value.var is not None and value.index is not None:
            # `x[0][1]`: the part `x[0]` is named first, then indexed again.
            target = self.n.staging.new_temp(f"{value.var}_part")
            self.n.staging.emit_stage(target, self.n.op("pos", [value], {}, slot(0)), len(self.n.origins) - 1)
            value = ir.Leaf(ast.Name(target, ast.Load()), target)
        if value.var is None or value.index is not None:
            raise self.n.fail(node, "cannot differentiate this indexing")
        var = value.var
        tree = self.n.copies.to_ast(node)
        assert isinstance(tree, ast.Subscript)
        tree.value = ast.Name(var, ast.Load())
        problem = self.n.check.index(var, tree.slice)
        if problem is not None:
            raise self.n.fail(node, f"shape mismatch: {problem}")
        kind = self.n.kinds_of(self.n.function).param(var)
        # `x: "N"` declares a vector, which may be passed as a list: read element by
        # element, its gradient is an array, made a list only where x is one.
        listed = kind.what == lattice.LIST or kind.is_sequence and var not in self.n.dims.shapes
        if not self.n.arrays or (listed and var in self.n.param_names and bindings.number_index(tree.slice)):
            self.n.lists.add(var)  # a list of numbers: its gradient is a list
        elif bindings.number_index(tree.slice):
            self.may_be_a_list(ir.Leaf(tree.value, var))  # `x[i]`: a list, or an array
        basic = self.note_index(tree.slice)
        return ir.Leaf(tree, var, tree.slice, basic)

    def may_be_a_list(self, node: ir.Node) -> None:
        """A parameter of unknown kind read as a list would be: if it is one, its
        gradient is turned into one before it is returned."""
        if isinstance(node, ir.Leaf) and node.var in self.n.param_names and node.index is None:
            kind = self.n.kinds_of(self.n.function).param(node.var)
            if kind.what in (lattice.UNKNOWN, lattice.LIST) or kind.is_sequence and node.var in self.n.dims.shapes:
                self.n.maybe_lists.add(node.var)

    def note_index(self, index: ast.expr) -> bool:
        """Whether `index`, read or written, selects each element at most once; the
        labels that may pick a row twice only because their kind is unknown are noted
        (the docstring then names the annotation that proves one label a row)."""
        basic = self.is_basic_index(index)
        if not basic:
            self.n.loose_labels |= self.loose_labels(index)
        return basic

    def loose_labels(self, index: ast.expr) -> set[str]:
        """The parameters of unknown kind beside `np.arange(N)` in `index`, not known
        to be vectors."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if not any(_is_arange(part) for part in parts):
            return set()
        kinds = self.n.kinds_of(self.n.function)
        return {
            p.id for p in parts
            if isinstance(p, ast.Name) and p.id in self.n.param_names and kinds.param(p.id).what == lattice.UNKNOWN
            and not self.is_vector_index(p)
        }  # fmt: skip

    def is_basic_index(self, index: ast.expr) -> bool:
        """Whether `index` selects each element at most once (no integer arrays)."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if any(_is_arange(part) for part in parts):
            # Paired with np.arange(N), vectors of labels `y` cannot make two
            # positions coincide; labels of shape (N, 1) broadcast to N * N picks.
            return all(self.is_vector_index(part) for part in parts)
        if sum(1 for part in parts if self.is_mask(part)) == 1:
            # A boolean mask picks each element once, and with slices and ints too.
            parts = [part for part in parts if not self.is_mask(part)]
        for part in parts:
            if isinstance(part, ast.Slice):
                continue
            if isinstance(part, ast.Constant) and (part.value is None or part.value is Ellipsis):
                continue
            if isinstance(part, ast.Attribute) and part.attr == "newaxis":
                continue
            if not self.is_int(part):
                return False
        return True

    def copied(self, name: str) -> ir.Leaf | None:
        """`x` when `name` is `x.copy()`, staged in this block: `out = x.copy()` then
        `out[mask] = v` writes into a copy of `x` anyway, and the gradient of `x` is
        then the upstream one with the mask zeroed, not zeros plus a copy of it."""
        for statement in reversed(self.n.body):
            if isinstance(statement, ir.Stage) and statement.target == name:
                value = statement.value
                if isinstance(value, ir.Op) and value.rule.name == "numpy.copy" and len(value.args) == 1:
                    source = value.args[0]
                    if isinstance(source, ir.Leaf) and source.var is not None and source.index is None:
                        return ir.Leaf(ast.Name(source.var, ast.Load()), source.var)
                return None
        return None

    def fits_written(self, value: ir.Node, base: str, index: ast.expr) -> bool:
        """Whether `a[index] = value` writes a value of the shape of `a[index]`: an
        elementwise function of `x[index]`, `x` of `a`'s shape (`out[mask] = 0.01 *
        x[mask]`), whose gradient then needs no summing back."""
        key = self.n.shapes.keys.get(base)
        if key is None or key == SCALAR:
            return False
        dumped = ast.dump(index)

        def fits(node: ir.Node) -> bool:
            if isinstance(node, ir.Leaf):
                if node.var is None or node.index is None or ast.dump(node.index) != dumped:
                    return False
                return self.n.shapes.keys.get(node.var, node.var) == key
            if node.rule.kind != "elementwise" or not node.rule.name.startswith("numpy."):
                return False
            operands = [a for a in node.args if self.n.shapes.key(a) != SCALAR]
            return bool(operands) and all(fits(a) for a in operands)

        return fits(value)

    def is_mask(self, expr: ast.expr) -> bool:
        """Whether `expr` is certainly a boolean mask: a comparison, or masks combined."""
        if isinstance(expr, ast.Compare):
            return True
        if isinstance(expr, ast.Name):
            return expr.id in self.n.masks
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Invert):
            return self.is_mask(expr.operand)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
            return self.is_mask(expr.left) and self.is_mask(expr.right)
        if isinstance(expr, ast.Call) and self.n.resolve(expr.func) in _MASK_FUNCTIONS:
            return True
        return False

    def is_vector_index(self, expr: ast.expr) -> bool:
        """Whether `expr`, one part of an index, is certainly a slice, a number or a
        vector: of rank 1 or less."""
        n = self.n
        if isinstance(expr, ast.Slice) or _is_arange(expr) or self.is_int(expr):
            return True
        if isinstance(expr, ast.Constant):
            return expr.value is None or expr.value is Ellipsis
        if isinstance(expr, ast.Attribute) and expr.attr == "newaxis":
            return True
        if isinstance(expr, (ast.List, ast.Tuple)):
            return all(self.is_int(e) for e in expr.elts)
        if isinstance(expr, ast.Name):
            kinds = n.kinds_of(n.function)
            kind = kinds.param(expr.id) if expr.id in n.param_names else kinds.every_binding(expr.id)
            return kind.is_number or kind.is_sequence or (kind.what == lattice.ARRAY and kind.rank in (0, 1))
        return False

    def is_int(self, expr: ast.expr) -> bool:
        """Whether `expr` is certainly a Python int (a literal, a size, a loop counter)."""
        if isinstance(expr, ast.Constant):
            return type(expr.value) is int
        if isinstance(expr, ast.Name):
            return expr.id in self.n.ints
        if isinstance(expr, ast.UnaryOp):
            return self.is_int(expr.operand)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
            return self.is_int(expr.left) and self.is_int(expr.right)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute):
            return expr.value.attr == "shape"
        if isinstance(expr, ast.Attribute):
            return expr.attr in ("ndim", "size")
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            return expr.func.id in ("len", "int")
        return False

    def item_assign(self, target: ast.Subscript, value: ir.Node, origin: int) -> None:
        """`a[index] = v`: a new version of `a` (a copy, so that the old one and the
        caller's array stay intact) with `v` written in."""
        if not isinstance(target.value, ast.Name) or target.value.id not in self.n.env:
            raise self.n.fail(target, "item assignment is only supported on a named array")
        name = target.value.id
        old = self.n.env[name]
        if old == name and name in self.n.param_names and self.n.kinds_of(self.n.function).param(name).what == lattice.SETTING:
            self.write_setting(target, value, origin)
            return
        tree = self.n.copies.to_ast(target)
        assert isinstance(tree, ast.Subscript)
        index = tree.slice
        if old not in self.n.active and not is_active_node(value):
            if old in self.n.param_names:
                self.n.assign(name, ir.Leaf(ast.parse(f"{old}.copy()", mode="eval").body), origin)
                tree.value = ast.Name(self.n.env[name], ast.Load())
            statement = ast.Assign([ast.Subscript(tree.value, index, ast.Store())], value_expr(value))
            self.n.body.append(ir.Plain(statement, origin))
            return
        fits = ast.Constant(self.fits_written(value, old, index))  # v has the shape of a[index]
        if isinstance(value, ir.Op):
            value = self.n.staging.named(value, origin, hint=name)
        base = self.copied(old) or ir.Leaf(ast.Name(old, ast.Load()), old if old in self.n.active else None)
        unique = ast.Constant(self.note_index(index))  # no position written twice
        keywords = {"index": index, "__unique__": unique, "__fits__": fits}
        op = ir.Op(RULES["setitem"], [base, value], keywords, ast.Constant(None))
        new = self.n.staging.new_binding(name)
        self.n.env[name] = new
        if old in self.n.stacks or self.n.forward and old in self.n.lists:
            self.n.appending.activate_list(new)  # `dxs[-1] = ...` in a backward read again: a list, its tangent one too
        self.n.staging.emit_stage(new, op, origin)

    def write_setting(self, target: ast.Subscript, value: ir.Node, origin: int) -> None:
        """`bn_param["running_mean"] = v` into a dict of settings passed in: written in
        place, as the user's forward writes the caller's dict (the split forward keeps
        it). The dict is held constant: a differentiated value written into it may not
        be read back, as its gradient would be lost."""
        assert isinstance(target.value, ast.Name)
        if isinstance(value, ir.Op) or is_active_node(value):
            read = _read_back(self.n.function, target, bool(self.n.loops))
            if read is not None:
                code = self.n.info.code(target).strip()
                message = f"{code} holds a differentiated value, read back here from a dict of settings (held constant): read it from a local"
                raise self.n.fail(read, message)
        tree = self.n.copies.to_ast(target)
        assert isinstance(tree, ast.Subscript)
        statement = ast.Assign([ast.Subscript(ast.Name(target.value.id, ast.Load()), tree.slice, ast.Store())], value_expr(value))
        self.n.body.append(ir.Plain(statement, origin))


def _read_back(function: ast.AST, target: ast.Subscript, looped: bool) -> ast.expr | None:
    """A read of the dict `target` writes into that may see the write: after it (or
    anywhere, in a loop), of its key or of the whole dict."""
    assert isinstance(target.value, ast.Name)
    key = target.slice.value if isinstance(target.slice, ast.Constant) else None
    parents = {id(child): node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(function):
        if not (isinstance(node, ast.Name) and node.id == target.value.id and isinstance(node.ctx, ast.Load)):
            continue
        if node is target.value or not (looped or (node.lineno, node.col_offset) > (target.lineno, target.col_offset)):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Attribute) and parent.attr == "get":
            parent = parents.get(id(parent))
            read_key = parent.args[0] if isinstance(parent, ast.Call) and parent.args else None
        else:
            read_key = parent.slice if isinstance(parent, ast.Subscript) else None
        if key is None or not (isinstance(read_key, ast.Constant) and read_key.value != key):
            return node
    return None


def value_expr(node: ir.Node) -> ast.expr:
    """The expression of a constant node (an operation on constants written out)."""
    return ir.render(node)


_MASK_FUNCTIONS = frozenset({
    "numpy.logical_and", "numpy.logical_or", "numpy.logical_not", "numpy.logical_xor", "numpy.isnan",
    "numpy.isfinite", "numpy.isinf", "numpy.greater", "numpy.less", "numpy.greater_equal", "numpy.less_equal",
})  # fmt: skip


def _is_arange(node: ast.expr) -> bool:
    """`np.arange(...)` or `range(...)`: an index array without repeats."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("arange", "range")
