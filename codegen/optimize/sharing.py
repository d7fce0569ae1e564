"""What may share storage in a generated function: a may-point-to analysis
over its text (every value a set of allocation sites: the statement that made
it, a parameter, a name from outside; views, list appends and unknown calls
keep their operands' sites), which sites escape, and which names are live
after each statement. The in-place pass asks it whether a copy is needed."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codegen.ad import operations

Sites = frozenset[str]
State = dict[str, Sites]
_IMMUTABLE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})
_NUMBER_BUILTINS = frozenset({"len", "range", "reversed", "float", "int", "bool", "abs", "isinstance", "round"})
_SIZES = frozenset({"shape", "ndim", "size"})  # np.shape(a): a tuple of ints, nothing shared
_ADDS_TO_RECEIVER = frozenset({"append", "extend", "insert"})


@dataclass(frozen=True)
class Context:
    """The function's parameters, and how its helpers are spelled."""

    params: tuple[str, ...]
    sizes: frozenset[str]  # helpers that return shapes
    first_only: frozenset[str]  # helpers whose result shares only their first argument


@dataclass
class Analysis:
    """Sites per name before each statement, sites that escaped, liveness after."""

    before: dict[int, State] = field(default_factory=dict)
    escaped: set[str] = field(default_factory=set)
    elements: dict[str, set[str]] = field(default_factory=dict)  # what each site's object holds
    live_after: dict[int, frozenset[str]] = field(default_factory=dict)
    ok: bool = True
    sizes: frozenset[str] = frozenset()
    first_only: frozenset[str] = frozenset()


def analyse(body: list[ast.stmt], context: Context) -> Analysis:
    params = context.params
    analysis = Analysis(sizes=context.sizes, first_only=context.first_only)
    try:
        while True:  # until what the containers hold settles too
            held = {site: set(inner) for site, inner in analysis.elements.items()}
            state: State = {name: frozenset({f"param:{name}"}) for name in params}
            analysis.escaped |= {f"param:{name}" for name in params}
            _points_to(body, state, analysis)
            if held == analysis.elements:
                break
        analysis.escaped = set(closure(frozenset(analysis.escaped), analysis))
        _liveness(body, frozenset(), analysis)
    except _Unknown:
        analysis.ok = False
    return analysis


class _Unknown(Exception):
    """A statement the analysis does not model: nothing is written in place."""


def closure(sites: Sites, analysis: Analysis) -> Sites:
    """`sites` and everything they hold, transitively (a list's arrays)."""
    seen = set(sites)
    todo = list(sites)
    while todo:
        for inner in analysis.elements.get(todo.pop(), ()):
            if inner not in seen:
                seen.add(inner)
                todo.append(inner)
    return frozenset(seen)


def _hold(holders: Sites, sites: Sites, analysis: Analysis) -> None:
    for holder in holders:
        analysis.elements.setdefault(holder, set()).update(sites)


def _inside(sites: Sites, analysis: Analysis) -> Sites:
    return frozenset().union(*(analysis.elements.get(s, ()) for s in sites))


def _new(site: str, holding: Sites, analysis: Analysis) -> Sites:
    _hold(frozenset({site}), holding, analysis)
    return frozenset({site})


def _flows(expr: ast.expr | None, state: State, site: str, analysis: Analysis) -> Sites:
    """The sites the value of `expr` may be or be a view of (`site` for what it makes anew)."""
    if expr is None or isinstance(expr, ast.Constant):
        return frozenset()
    if isinstance(expr, ast.Name):
        if expr.id not in state:
            outside = f"global:{expr.id}"
            analysis.escaped.add(outside)
            return frozenset({outside})
        return state[expr.id]
    if isinstance(expr, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        # A new array or number; a new list or tuple (`[a] * 2`) holds its operands' elements.
        operands = [expr.left, expr.right] if isinstance(expr, ast.BinOp) else []
        held = frozenset().union(*(_inside(_flows(o, state, site, analysis), analysis) for o in operands))
        return _new(site, held, analysis)
    if isinstance(expr, ast.Attribute):
        if expr.attr in _IMMUTABLE_ATTRIBUTES:
            return frozenset()
        return _flows(expr.value, state, site, analysis)
    if isinstance(expr, ast.Subscript):
        whole = _flows(expr.value, state, site, analysis)
        return whole | _inside(whole, analysis)  # a view, or an element
    if isinstance(expr, (ast.IfExp, ast.BoolOp)):
        parts = [expr.body, expr.orelse] if isinstance(expr, ast.IfExp) else expr.values
        return frozenset().union(*(_flows(p, state, site, analysis) for p in parts))
    if isinstance(expr, ast.Call):
        return _call_flows(expr, state, site, analysis)
    # Displays, comprehensions, anything else: a new object holding whatever it names.
    named = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    held = frozenset().union(*(_flows(n, state, site, analysis) for n in named))
    return _new(site, held | _inside(held, analysis), analysis)


def _call_flows(call: ast.Call, state: State, site: str, analysis: Analysis) -> Sites:
    func = call.func
    operands = [*call.args, *(k.value for k in call.keywords)]
    if isinstance(func, ast.Name) and (func.id in _NUMBER_BUILTINS or func.id in analysis.sizes):
        return frozenset({site})
    if isinstance(func, ast.Name) and func.id in analysis.first_only and call.args:
        return _flows(call.args[0], state, site, analysis) | {site}  # the gradient itself, or its sum
    if isinstance(func, ast.Attribute):
        receiver = func.value
        is_module = isinstance(receiver, ast.Name) and receiver.id not in state
        if not is_module and func.attr == "copy" and not operands:
            # A new object; a list's copy holds the same elements.
            whole = _flows(receiver, state, site, analysis)
            return _new(site, _inside(whole, analysis), analysis)
        if is_module and func.attr in _SIZES:
            return frozenset()
        if operations.fresh(func.attr) and (is_module or operations.proves_array(func.attr)):
            return frozenset({site})
        if func.attr == "pop" and not is_module:
            whole = _flows(receiver, state, site, analysis)
            return _inside(whole, analysis)
        if not is_module:
            operands.append(receiver)
    kept = frozenset().union(*(_flows(o, state, site, analysis) for o in operands))
    return frozenset({site}) | kept | _inside(kept, analysis)


def names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def stored(statement: ast.stmt) -> set[str]:
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    targets = [statement.target] if isinstance(statement, (ast.AugAssign, ast.For)) else targets
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def mutated(statement: ast.stmt) -> set[str]:
    """Names whose objects `statement` may change in place."""
    if isinstance(statement, ast.AugAssign):
        target = statement.target
        return names(target.value if isinstance(target, ast.Subscript) else target)
    if isinstance(statement, ast.Assign):
        bases = [t.value if isinstance(t, ast.Subscript) else t for t in statement.targets if not isinstance(t, ast.Name)]
        return {n for base in bases for n in names(base)}
    if isinstance(statement, ast.Expr):
        return names(statement)
    return set()


def scatter_target(call: ast.Call, state: State) -> ast.Name | None:
    """The array `np.add.at(a, index, v)` adds into (`np` any module: not a local name)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "at" and isinstance(func.value, ast.Attribute)):
        return None
    module = func.value.value
    if func.value.attr != "add" or not isinstance(module, ast.Name) or module.id in state:
        return None
    if len(call.args) != 3 or call.keywords or not isinstance(call.args[0], ast.Name):
        return None
    return call.args[0]


def _join(a: State, b: State) -> State:
    joined = dict(a)
    for name, sites in b.items():
        joined[name] = joined.get(name, frozenset()) | sites
    return joined


def _points_to(block: list[ast.stmt], state: State, analysis: Analysis) -> State:
    for statement in block:
        analysis.before[id(statement)] = dict(state)
        site = f"site:{statement.lineno}:{statement.col_offset}"
        if isinstance(statement, ast.Assign):
            sites = _flows(statement.value, state, site, analysis)
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    state[target.id] = sites
                elif isinstance(target, (ast.Tuple, ast.List)):
                    unpacked = sites | _inside(sites, analysis)
                    for name in names(target):
                        state[name] = unpacked
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    _hold(_flows(target.value, state, site, analysis), sites, analysis)
                else:
                    raise _Unknown
        elif isinstance(statement, ast.AugAssign):
            sites = _flows(statement.value, state, site, analysis)
            target = statement.target
            holder = target.value if isinstance(target, ast.Subscript) else target
            if not isinstance(holder, ast.Name):
                raise _Unknown
            whole = _flows(holder, state, site, analysis)
            # `an_array += e` keeps nothing of e; `a_list += [b]` holds b, an element of e.
            _hold(whole, _inside(sites, analysis), analysis)
            if isinstance(target, ast.Name):
                state[holder.id] = whole | {site}  # in place, or a new number
        elif isinstance(statement, ast.Expr):
            call = statement.value
            if isinstance(call, ast.Constant):
                continue
            if not isinstance(call, ast.Call):
                raise _Unknown
            func = call.func
            operands = [*call.args, *(k.value for k in call.keywords)]
            args = frozenset().union(*(_flows(a, state, site, analysis) for a in operands))
            adds = isinstance(func, ast.Attribute) and func.attr in _ADDS_TO_RECEIVER
            scattered = scatter_target(call, state)
            if scattered is not None:
                # `np.add.at(a, index, v)` is `a[index] += v`: it keeps nothing of index or v.
                _flows(scattered, state, site, analysis)
            elif adds and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in state:
                _hold(state[func.value.id], args | _inside(args, analysis), analysis)
            else:
                # An unknown call may keep or change anything it is given.
                analysis.escaped.update(args)
                if isinstance(func, ast.Attribute):
                    analysis.escaped.update(_flows(func.value, state, site, analysis))
        elif isinstance(statement, ast.If):
            _flows(statement.test, state, site, analysis)
            left = _points_to(statement.body, dict(state), analysis)
            right = _points_to(statement.orelse, dict(state), analysis)
            state.clear()
            state.update(_join(left, right))
        elif isinstance(statement, (ast.For, ast.While)):
            if statement.orelse:
                raise _Unknown
            entry = dict(state)
            while True:
                inside = dict(entry)
                if isinstance(statement, ast.For):
                    if not isinstance(statement.target, ast.Name):
                        raise _Unknown
                    whole = _flows(statement.iter, inside, site, analysis)
                    inside[statement.target.id] = whole | _inside(whole, analysis) | {site}
                else:
                    _flows(statement.test, inside, site, analysis)
                out = _points_to(statement.body, inside, analysis)
                joined = _join(entry, out)
                if joined == entry:
                    break
                entry = joined
            state.clear()
            state.update(entry)
        elif isinstance(statement, ast.Return):
            _flows(statement.value, state, site, analysis)
        elif isinstance(statement, ast.Pass):
            pass
        else:
            raise _Unknown
    return state


def _reads(node: ast.AST | None) -> frozenset[str]:
    if node is None:
        return frozenset()
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _liveness(block: list[ast.stmt], live: frozenset[str], analysis: Analysis) -> frozenset[str]:
    """Names live before `block`, given those live after it; records each statement's live-out."""
    for statement in reversed(block):
        analysis.live_after[id(statement)] = live
        if isinstance(statement, ast.Assign):
            killed = {t.id for t in statement.targets if isinstance(t, ast.Name)}
            killed |= {n for t in statement.targets if isinstance(t, (ast.Tuple, ast.List)) for n in names(t)}
            live = (live - killed) | _reads(statement)
        elif isinstance(statement, ast.AugAssign):
            live = live | _reads(statement) | names(statement.target)
        elif isinstance(statement, ast.Expr):
            live = live | _reads(statement)
        elif isinstance(statement, ast.Return):
            live = _reads(statement)
        elif isinstance(statement, ast.Pass):
            pass
        elif isinstance(statement, ast.If):
            left = _liveness(statement.body, live, analysis)
            right = _liveness(statement.orelse, live, analysis)
            live = left | right | _reads(statement.test)
        elif isinstance(statement, (ast.For, ast.While)):
            head = live | (_reads(statement.iter) if isinstance(statement, ast.For) else _reads(statement.test))
            target = stored(statement) if isinstance(statement, ast.For) else set()
            while True:
                body_in = _liveness(statement.body, head, analysis)
                widened = head | (body_in - target)
                if widened == head:
                    break
                head = widened
            live = head
        else:
            raise _Unknown
    return live
