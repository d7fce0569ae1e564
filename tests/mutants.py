"""The mutations `tests.mutation` applies: to a derivative template, and to the
differentiator's accumulations.

A template mutant is a small wrong change of one template (an `ast.expr` of
`codegen.rules`): its sign, a factor, an operand, an operator, a constant, a
comparison, a branch, a call.  Some changes cannot alter the value (a product
written the other way round): those are returned as equivalent, with why, and
never run.  `probe_equivalent` tells, for a mutant that no check kills, whether
it computes the same numbers as the original on random values anyway.

An accumulation mutant rewrites one place of codegen/ad/differentiate.py where a
gradient is written (`=`) or added to (`+=`): each `_accumulate(...)` call
becomes a plain assignment, each `ast.Assign` of a gradient becomes an
accumulation, and a few named places (the copy before `+=` into a shared
array, the zeroing before a loop, `np.add.at`, the `-=` of a negated term) are
undone.  The rewritten function is compiled from the module's own source, so a
change to that source that moves a mutation site fails loudly here.
"""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
import math
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import numpy as np

from codegen.ad import differentiate
from codegen.emit import helpers


@dataclass(frozen=True)
class Mutation:
    """One change of a template: what was done, the result, and why it cannot
    matter (`equivalent`) when that is known without running it."""

    what: str
    tree: ast.expr
    equivalent: str | None = None


COMMUTATIVE = "a commutative operation"
_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr)
_FLIPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
}


def _nodes(tree: ast.expr) -> list[ast.AST]:
    return list(ast.walk(tree))


def _substitute(tree: ast.AST, target: ast.AST, new: ast.AST) -> None:
    """Put `new` where `target` is inside `tree` (not its root)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is target for v in value):
                value[next(i for i, v in enumerate(value) if v is target)] = new
                return
    raise AssertionError("a node without a parent")


def _replace(tree: ast.expr, position: int, make: Callable[[Any], ast.expr]) -> ast.expr:
    """A copy of `tree` whose `position`-th node (in `ast.walk` order) is `make(node)`."""
    root = copy.deepcopy(tree)
    target = _nodes(root)[position]
    replacement = make(target)
    if target is root:
        return replacement
    _substitute(root, target, replacement)
    return root


def _renamed(tree: ast.expr, mapping: dict[str, str]) -> ast.expr:
    root = copy.deepcopy(tree)
    for node in ast.walk(root):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
    return root


def _node_mutations(node: ast.AST) -> Iterator[tuple[str, Callable[[Any], ast.expr], str | None]]:
    """(what, how to build it from a copy of the node, why equivalent or None)."""
    if isinstance(node, ast.BinOp):
        text = ast.unparse(node)
        if isinstance(node.op, ast.Mult):
            yield f"drop the factor {ast.unparse(node.right)} of {text}", lambda n: n.left, None
            yield f"drop the factor {ast.unparse(node.left)} of {text}", lambda n: n.right, None
        if isinstance(node.op, ast.Div):
            yield f"drop the divisor of {text}", lambda n: n.left, None
        swapped = ast.unparse(ast.BinOp(node.right, node.op, node.left))
        why = COMMUTATIVE if isinstance(node.op, _COMMUTATIVE) else None
        yield f"swap the operands: {text} -> {swapped}", lambda n: ast.BinOp(n.right, n.op, n.left), why
        if isinstance(node.op, (ast.Add, ast.Sub)):
            other: ast.operator = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            yield f"{'+ -> -' if isinstance(node.op, ast.Add) else '- -> +'} in {text}", lambda n: ast.BinOp(n.left, other, n.right), None
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield f"the constant {node.value!r} -> {node.value + 1!r}", lambda n: ast.Constant(n.value + 1), None
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIPPED:
        flipped = _FLIPPED[type(node.ops[0])]()
        after = ast.unparse(ast.Compare(node.left, [flipped], node.comparators))
        yield f"reverse the comparison: {ast.unparse(node)} -> {after}", lambda n: ast.Compare(n.left, [flipped], n.comparators), None
    elif isinstance(node, ast.IfExp):
        yield f"swap the branches of {ast.unparse(node)}", lambda n: ast.IfExp(n.test, n.orelse, n.body), None
    elif isinstance(node, ast.Call) and node.args and not isinstance(node.args[0], ast.Starred):
        yield f"drop the call: {ast.unparse(node)} -> {ast.unparse(node.args[0])}", lambda n: n.args[0], None


def _same_subscripts(tree: ast.expr, a: str, b: str) -> bool:
    """Whether `a` and `b` occur only as operands of one einsum, with equal subscripts."""
    if sum(1 for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in (a, b)) != 2:
        return False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("einsum") and node.args):
            continue
        spec, operands = node.args[0], [ast.unparse(x) for x in node.args[1:]]
        if isinstance(spec, ast.Constant) and isinstance(spec.value, str) and a in operands and b in operands:
            inputs = spec.value.replace(" ", "").split("->")[0].split(",")
            return len(inputs) == len(operands) and inputs[operands.index(a)] == inputs[operands.index(b)]
    return False


MOVEAXIS_AXES = "np.moveaxis takes any sequence of ints for its axes: range(k) moves the same axes as list(range(k))"
UNBROADCAST_LIKE = "_unbroadcast takes an array or its shape: np.shape(v) and v (an operand array) give the same"


def _list_valued(tree: ast.expr) -> bool:
    """Whether the template builds a Python list (one gradient per element of a list)."""
    if isinstance(tree, (ast.List, ast.ListComp)):
        return True
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        return isinstance(tree.left, ast.List) or isinstance(tree.right, ast.List)
    return isinstance(tree, ast.Call) and ast.unparse(tree.func) in ("list", "np.split")


def _doubled(tree: ast.expr) -> ast.expr:
    """2 times the template; for a list, each element doubled (`2 * [..]` would repeat the list)."""
    if not _list_valued(tree):
        return ast.BinOp(ast.Constant(2), ast.Mult(), copy.deepcopy(tree))
    part = ast.Name("_part", ast.Load())
    loop = ast.comprehension(ast.Name("_part", ast.Store()), copy.deepcopy(tree), [], 0)
    return ast.ListComp(ast.BinOp(ast.Constant(2), ast.Mult(), part), [loop])


def _equivalent_drop(node: ast.AST, parent: ast.AST | None) -> str | None:
    """Why dropping the call `node` (an argument of `parent`) cannot change a value, if so."""
    if not (isinstance(node, ast.Call) and isinstance(parent, ast.Call) and node in parent.args):
        return None
    call, outer = ast.unparse(node.func), ast.unparse(parent.func)
    inner = node.args[0] if node.args else None
    if call == "list" and outer == "np.moveaxis" and parent.args.index(node) > 0 and inner is not None and _is_call(inner, "range"):
        return MOVEAXIS_AXES
    if call == "np.shape" and outer == "_unbroadcast" and parent.args.index(node) == 1 and isinstance(inner, ast.Name):
        return UNBROADCAST_LIKE
    return None


def template_mutations(tree: ast.expr, operands: list[str]) -> list[Mutation]:
    """The mutants of one template whose row's operands are `operands` (in order)."""
    original = ast.unparse(tree)
    found: list[Mutation] = []
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        found.append(Mutation("drop the sign", copy.deepcopy(tree.operand)))
    else:
        found.append(Mutation("negate", ast.UnaryOp(ast.USub(), copy.deepcopy(tree))))
    found.append(Mutation("double", _doubled(tree)))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for a, b in itertools.combinations(operands, 2):
        if a in used or b in used:
            why = "einsum operands with the same subscripts" if _same_subscripts(tree, a, b) else None
            found.append(Mutation(f"swap the operands {a} <-> {b}", _renamed(tree, {a: b, b: a}), why))
    if "out" in used and operands:
        found.append(Mutation(f"out -> {operands[0]}", _renamed(tree, {"out": operands[0]})))
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for position, node in enumerate(_nodes(tree)):
        for what, make, why in _node_mutations(node):
            if why is None and what.startswith("drop the call"):
                why = _equivalent_drop(node, parents.get(id(node)))
            found.append(Mutation(what, _replace(tree, position, make), why))
    unique: list[Mutation] = []
    seen = {original}
    for mutation in found:
        text = ast.unparse(mutation.tree)
        if text not in seen:
            seen.add(text)
            unique.append(mutation)
    return unique


# ---- equivalence on random values ------------------------------------------------------
def _probe_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"np": np, "math": math, "keep": lambda v: v, "count": np.size}
    for name in sorted(helpers.NAMES):
        exec(helpers.source(name, {}), namespace)  # noqa: S102  # codegen's own helpers
    return namespace


def _evaluate(code: Any, namespace: dict[str, Any]) -> np.ndarray | None:
    try:
        with np.errstate(all="ignore"):
            return np.asarray(eval(code, namespace), dtype=float)  # noqa: S307  # a template of codegen's own
    except Exception:  # a template outside its operands' shapes or domain
        return None


def _draw(rng: np.random.Generator, k: int, shape: tuple[int, ...] | None) -> Any:
    if k % 2:  # ties: few distinct values
        value = rng.choice([0.5, 1.5, -0.5], size=shape or ())
    else:
        value = rng.uniform(0.1, 0.9, size=shape or ()) * (1 + k % 3)
    return float(value) if shape is None else value


def _variant(rng: np.random.Generator, base: tuple[int, ...]) -> tuple[int, ...]:
    """A shape like `base` that broadcasts with it, or differs in its last axis."""
    k = int(rng.integers(4))
    if k == 1:
        return tuple(1 if rng.random() < 0.5 else n for n in base)
    if k == 2 and len(base) > 1:
        return base[int(rng.integers(1, len(base))):]
    if k == 3:
        return base[:-1] + (base[-1] + 1,)
    return base


def probe_equivalent(
    original: ast.expr, mutant: ast.expr, names: list[str], scalar: bool, fixed: dict[str, Any], probes: int = 64
) -> bool:
    """Whether `mutant` gives `original`'s values on random values of `names`:
    floats if `scalar`; else 2x3 arrays, and arrays of different shapes (for
    names read only for their shape; the upstream `g` sometimes a large one,
    for templates that slice it), ties included.  Arrays must have been
    compared with operands of different shapes at least once.  Evidence of equivalence, not a proof: such mutants
    are listed for review."""
    rng = np.random.default_rng(0)
    namespace = _probe_namespace()
    codes = [compile(ast.Expression(ast.fix_missing_locations(copy.deepcopy(t))), "<template>", "eval") for t in (original, mutant)]
    used = sorted({n.id for t in (original, mutant) for n in ast.walk(t) if isinstance(n, ast.Name)} & set(names))
    evidence = False  # a comparison of finite values (with operands of different shapes, for arrays)
    for k in range(probes):
        values: dict[str, Any] = dict(fixed)
        same = k < probes // 4
        base = tuple(int(n) for n in rng.integers(2, 5, size=int(rng.integers(1, 4))))
        for name in names:
            if scalar:
                shape = None
            elif same:
                shape = (2, 3)
            elif name == "g" and k % 3 == 0:
                shape = (7, 7, 7)
            else:
                shape = _variant(rng, base)
            values[name] = _draw(rng, k, shape)
        a, b = (_evaluate(code, {**namespace, **values}) for code in codes)
        if a is None and b is None:
            continue
        if a is None or b is None or a.shape != b.shape or not np.allclose(a, b, equal_nan=True, rtol=1e-12, atol=0.0):
            return False
        if np.isfinite(a).any() and (scalar or len({np.shape(values[n]) for n in used}) > 1):
            evidence = True
    return evidence


# ---- the differentiator's accumulations --------------------------------------------------
@dataclass(frozen=True)
class Patch:
    """A mutant of the differentiator: `function` (a qualified name in
    codegen.differentiate) compiled from its source after `rewrite`."""

    what: str
    function: str
    rewrite: Callable[[ast.Module], None]
    equivalent: str | None = None  # why no correct output can tell, if known


def _function_tree(qualname: str) -> ast.Module:
    owner, _, name = qualname.rpartition(".")
    holder = getattr(differentiate, owner) if owner else differentiate
    return ast.parse(textwrap.dedent(inspect.getsource(getattr(holder, name))))


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) == name


def _matches(qualname: str, predicate: Callable[[ast.AST], bool]) -> list[str]:
    """The source of each node of `qualname` that `predicate` accepts, in `ast.walk` order."""
    return [ast.unparse(n) for n in ast.walk(_function_tree(qualname)) if predicate(n)]


def _rewrite_nth(predicate: Callable[[ast.AST], bool], k: int, make: Callable[[Any], ast.AST]) -> Callable[[ast.Module], None]:
    """Replace the `k`-th node `predicate` accepts (in `ast.walk` order) by `make(node)`."""

    def rewrite(tree: ast.Module) -> None:
        target = [n for n in ast.walk(tree) if predicate(n)][k]
        _substitute(tree, target, make(target))

    return rewrite


def _parsed(text: str) -> ast.AST:
    statement = ast.parse(text).body[0]
    return statement.value if isinstance(statement, ast.Expr) else statement


def _replace_text(old: str, new: str) -> Callable[[ast.Module], None]:
    """Replace the statement or expression whose source is `old` (it must occur once) by `new`."""
    old_dump, replacement = ast.dump(_parsed(old)), _parsed(new)

    def rewrite(tree: ast.Module) -> None:
        hits = [n for n in ast.walk(tree) if ast.dump(n) == old_dump]
        if len(hits) != 1:
            raise LookupError(f"{old!r} occurs {len(hits)} times, not once: update tests/mutants.py")
        _substitute(tree, hits[0], copy.deepcopy(replacement))

    return rewrite


_ACCUMULATING = ("Differentiator.contribute", "Differentiator.contribute_element")
# Accumulation sites where `=` and `+=` give the same values whenever the
# gradient is right, with why (checked again on every run: a kill would show).
_EQUIVALENT = {
    ("Differentiator.contribute_element", "self.emit(ast.Assign([target], gradient))"):
        "the first write to a list gradient's element follows its zeroing `[0.0] * len(w)`",
}
_ASSIGN_OF_GRADIENT = "ast.Assign"


def accumulation_patches() -> list[Patch]:
    """Every `=` / `+=` choice of the differentiator, each turned the wrong way."""
    patches: list[Patch] = []
    for function in _ACCUMULATING:
        short = function.rpartition(".")[2]
        accumulate = lambda n: _is_call(n, "_accumulate")  # noqa: E731
        for k, text in enumerate(_matches(function, accumulate)):
            patches.append(Patch(
                f"{short}: `+=` written `=` ({text})",
                function,
                _rewrite_nth(accumulate, k, lambda n: ast.Call(ast.Name("_Assign1", ast.Load()), n.args, [])),
            ))
        emitted = lambda n: _is_call(n, "self.emit") and _is_call(n.args[0], _ASSIGN_OF_GRADIENT)  # noqa: E731
        for k, text in enumerate(_matches(function, emitted)):
            patches.append(Patch(
                f"{short}: `=` written `+=` ({text})",
                function,
                _rewrite_nth(emitted, k, lambda n: ast.Call(n.func, [ast.Call(ast.Name("_accumulate1", ast.Load()), n.args[0].args, [])], [])),
                _EQUIVALENT.get((function, text)),
            ))
    patches += [
        Patch("contribute: the sum with an aliased gradient written as the new term alone",
              "Differentiator.contribute",
              _replace_text("total = ast.BinOp(ast.Name(name, ast.Load()), ast.Add(), gradient)", "total = gradient")),
        Patch("contribute: a gradient sharing its array taken as fresh (`+=` into the shared array)",
              "Differentiator.contribute",
              _replace_text("fresh = self.is_number(var) or is_fresh(gradient) or var in self.fn.stacks", "fresh = True")),
        Patch("contribute: no zeroing before a loop (`=` inside the loop where `+=` is due)",
              "Differentiator.contribute",
              _replace_text("outer = self.flow.outer_loop_for(var)", "outer = None")),
        Patch("contribute_element: np.add.at for advanced indices written `+=`",
              "Differentiator.contribute_element",
              _replace_text("not leaf.basic and not is_list", "False")),
        Patch("contribute_element: a list element written `=` although another path adds to it",
              "Differentiator.contribute_element",
              _replace_text("first = distinct and name not in self.nested and key not in self.elements.setdefault(name, set())",
                            "first = distinct")),
        Patch("_accumulate: `-= g` for a negated term written `+= g`",
              "_accumulate",
              _replace_text("return ast.AugAssign(target, ast.Sub(), gradient.operand)",
                            "return ast.AugAssign(target, ast.Add(), gradient.operand)")),
    ]
    return patches


def _assign1(target: ast.expr, gradient: ast.expr) -> ast.Assign:
    return ast.Assign([target], gradient)


def _accumulate1(targets: list[ast.expr], gradient: ast.expr) -> ast.AugAssign:
    return differentiate._accumulate(targets[0], gradient)


def compiled(patch: Patch) -> tuple[Any, str, FunctionType]:
    """(owner, attribute, mutated function) for `setattr` while the mutant runs."""
    tree = _function_tree(patch.function)
    before = ast.dump(tree)
    patch.rewrite(tree)
    if ast.dump(tree) == before:
        raise LookupError(f"{patch.what}: the rewrite changed nothing: update tests/mutants.py")
    owner_name, _, name = patch.function.rpartition(".")
    owner: Any = getattr(differentiate, owner_name) if owner_name else differentiate
    namespace: dict[str, Any] = {}
    scope = {**vars(differentiate), "_Assign1": _assign1, "_accumulate1": _accumulate1}
    exec(compile(ast.fix_missing_locations(tree), differentiate.__file__, "exec"), scope, namespace)  # noqa: S102
    return owner, name, namespace[name]
