"""Every naming convention in one place: SSA versions, temporaries, gradients.

Names are handed out deterministically and checked against every identifier
the user wrote, so generated names never shadow the user's.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re

_WORDS = {
    "add": "plus",
    "sub": "minus",
    "mul": "times",
    "div": "over",
    "matmul": "dot",
}
_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
# Builtins the generated code calls itself (loops, list gradients, helpers): a
# user's local of one of these names is renamed, a parameter or a copied
# constant of one is refused where the output calls it.
CALLED_BUILTINS = frozenset({"enumerate", "isinstance", "len", "list", "range", "reversed", "tuple", "zip"})
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Names:
    """A collision-checked, deterministic name generator for one function."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken) | _RESERVED
        self._grads: dict[str, str] = {}
        self._kept: set[str] = set()  # names fresh() skips, for `claim` (a tangent parameter's `x_dot`)

    def keep(self, names: set[str]) -> None:
        """Hold `names` back from `fresh`: they are handed out by `claim` only."""
        self._kept |= names - self.taken
        self.taken |= self._kept

    def claim(self, name: str) -> str:
        """`name` if it was kept and not yet claimed, else a fresh name after it."""
        if name in self._kept:
            self._kept.discard(name)
            return name
        return self.fresh(name)

    def fresh(self, base: str) -> str:
        """`base` if free, else `base_1`, `base_2`, ...; the name is then taken."""
        base = base if _IDENT.match(base) else "t"
        name = base
        counter = 0
        while name in self.taken:
            counter += 1
            name = f"{base}_{counter}"
        self.taken.add(name)
        return name

    def grad(self, var: str) -> str:
        """The gradient name of `var`: `dvar`, or `d_var` if the user has `dvar`."""
        if var not in self._grads:
            base = f"d{var}"
            self._grads[var] = self.fresh(base if base not in self.taken else f"d_{var}")
        return self._grads[var]

    def has_grad(self, var: str) -> bool:
        return var in self._grads


def temp_name(op: str, leaves: list[str], target: str, forward: bool = False) -> str:
    """A readable name for an intermediate the normaliser introduces: from its
    operands when short (`exp_x`, `x_times_y`), else from the statement's target.
    In forward mode, where `_dot` ends every tangent, a product is `x_matmul_y`."""
    word = op.split(".")[1] if op.startswith("numpy.") else op.rsplit(".", 1)[-1]
    if word == "linalg":
        word = op.split(".")[2]  # det_A, norm_x
    word = _WORDS.get(word, word) if not (forward and word == "matmul") else word
    if len(leaves) == 2 and op.split(".")[-1] in _WORDS:
        name = f"{leaves[0]}_{word}_{leaves[1]}"
    elif op.endswith("pow") and leaves:
        name = f"{leaves[0]}_pow"
    elif op.endswith("mul.self") and leaves:
        name = f"{leaves[0]}_sq"
    elif op == "numpy.T" and leaves:
        name = f"{leaves[0]}_T"
    elif op.endswith("neg") and leaves:
        name = f"neg_{leaves[0]}"
    elif leaves:
        name = "_".join([word, *leaves])
    else:
        name = ""
    return name if name and len(name) <= 16 else f"{target}_{word}"


def identifiers(tree: ast.AST) -> set[str]:
    """Every identifier in `tree`: names, attributes' bases, parameters."""
    return identifiers_and_bindings(tree)[0]


def identifiers_and_bindings(tree: ast.AST) -> tuple[set[str], set[str]]:
    """`identifiers(tree)`, and the names `tree` binds (parameters, assigned names)."""
    found: set[str] = set()
    bound: set[str] = set()
    for node in nodes(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
            if isinstance(node.ctx, ast.Store):
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.alias):
            found.add((node.asname or node.name).split(".")[0])
    return found, bound


def nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes of `tree`, as ast.walk gives them but in another order (depth
    first) and without the contexts and operators of names, constants, calls,
    attributes, subscripts and arithmetic; several times faster, for whole modules."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.Name, ast.Constant)):
            continue
        if isinstance(node, ast.BinOp):
            stack += (node.left, node.right)
        elif isinstance(node, ast.Call):
            stack.append(node.func)
            stack += node.args
            stack += node.keywords
        elif isinstance(node, (ast.Attribute, ast.UnaryOp)):
            stack.append(node.value if isinstance(node, ast.Attribute) else node.operand)
        elif isinstance(node, ast.Subscript):
            stack += (node.value, node.slice)
        else:
            for field in node._fields:
                value = getattr(node, field, None)
                if isinstance(value, ast.AST):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(item for item in value if isinstance(item, ast.AST))
    return found
