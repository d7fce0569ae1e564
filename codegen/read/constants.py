"""The top-level constants the output copies, and which of them it may copy.

The generated module is imported by the user's tests and training code, so
whatever it runs at import must be as harmless as the literals it stands for.
A top-level assignment is copied when the generated code reads a name it binds
(or a copied assignment reads one), in source order; it must be pure: literals,
names, arithmetic, displays, attribute reads and calls of functions known to
touch nothing outside (`math`, most of numpy, builtins such as `float` and
`len`, array and string methods such as `reshape`, `logging.getLogger`). Anything else
(`open(...)`, `os.system(...)`, `np.random.rand()`, a function of the module)
is refused at the call, naming the constant: the user moves the computation
into the function, or writes the value literally.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from codegen.errors import Collector
from codegen.read.parse import Function, ModuleInfo, dotted
from codegen.read.reports import meaning
from codegen.read.resolve import call_name

# Builtins that compute a value from their arguments and nothing else.
_PURE_BUILTINS = frozenset(
    "abs all any bool complex dict divmod enumerate float frozenset int len list max min pow range "
    "reversed round set slice sorted str sum tuple zip".split()
)
# numpy functions that read or write files, or change numpy's global state.
_NUMPY_EFFECTS = frozenset(
    "load loadtxt save savez savez_compressed savetxt genfromtxt fromfile fromregex memmap seterr seterrcall "
    "set_printoptions setbufsize info show_config show_runtime".split()
)
# numpy submodules whose functions are pure.
_NUMPY_PURE_MODULES = ("numpy.linalg.", "numpy.fft.")
# Methods of arrays, strings and containers that only compute a value.
_PURE_METHODS = frozenset(
    "astype copy count flatten format get index item items join keys lower max mean min prod ravel "
    "replace reshape split squeeze strip sum swapaxes tolist transpose upper values".split()
)


def copied(info: ModuleInfo, used: set[str]) -> list[str]:
    """The text of each top-level assignment the output needs, given the names
    its code reads, in source order; a needed one that is not pure is refused."""
    assignments = [s for s in info.tree.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and _bound(s)]
    needed = set(used)
    chosen: list[ast.Assign | ast.AnnAssign] = []
    for statement in reversed(assignments):
        if needed.isdisjoint(_bound(statement)):
            continue
        chosen.append(statement)
        value = statement.value
        if value is not None:
            needed |= {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    chosen.reverse()
    collector = Collector(info.filename, info.source)
    names = {name for statement in assignments for name in _bound(statement)}
    for statement in chosen:
        if statement.value is None:
            continue
        for call in _impure_calls(statement.value, info, names):
            line, column = info.position(call)
            bound = ", ".join(_bound(statement))
            collector.add(
                line,
                column,
                f"the output copies the top-level {bound}, and {info.code(call.func).strip()}(...) would run "
                f"whenever it is imported: write {bound} as a literal, or compute it inside the function",
            )
    collector.raise_if_any()
    return [info.code(statement).strip() for statement in chosen]


def impure_defaults(info: ModuleInfo, function: Function) -> list[tuple[ast.AST, str]]:
    """Each call in a default value of `function`'s parameters that does more than
    compute a value: the output's signature copies defaults, which run on import."""
    spec = function.args
    defaults = [d for d in (*spec.defaults, *spec.kw_defaults) if d is not None]
    names = {n for s in info.tree.body if isinstance(s, (ast.Assign, ast.AnnAssign)) for n in _bound(s)}
    return [
        (
            call,
            f"the output copies this default, and {info.code(call.func).strip()}(...) would run whenever it is "
            "imported: default to None and compute the value inside the function",
        )
        for default in defaults
        for call in _impure_calls(default, info, names)
    ]


def _bound(statement: ast.Assign | ast.AnnAssign) -> list[str]:
    """The names an assignment binds (`K = ...`, `A, B = ...`, `K: float = ...`)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    found: list[str] = []
    for target in targets:
        parts = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        found += [p.id for p in parts if isinstance(p, ast.Name)]
    return found


def _impure_calls(expr: ast.expr, info: ModuleInfo, constants: set[str]) -> Iterator[ast.Call]:
    """The calls in `expr` that may do something besides computing a value (a
    lambda's body is not run by the assignment)."""
    pending: list[ast.AST] = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Call) and not _is_pure_call(node, info, constants):
            yield node
        pending.extend(ast.iter_child_nodes(node))


def _is_pure_call(call: ast.Call, info: ModuleInfo, constants: set[str]) -> bool:
    func = call.func
    if meaning(func, info, ()) == "logging.getLogger":
        return True  # `logger = logging.getLogger(__name__)`: the logger of the generated module
    name = call_name(func, info, {})
    if name is None:
        return False
    if name.startswith("math."):
        return True
    if name.startswith("numpy."):
        rest = name[len("numpy.") :]
        return ("." not in rest and rest not in _NUMPY_EFFECTS) or name.startswith(_NUMPY_PURE_MODULES)
    if name.startswith("method."):
        assert isinstance(func, ast.Attribute)
        head = (dotted(func.value) or "").partition(".")[0]
        if head and head not in constants:
            return False  # a function of another module (`os.system`), or of an unknown object
        return func.attr in _PURE_METHODS
    return name in _PURE_BUILTINS and isinstance(func, ast.Name)
