"""The output's imports: only those it uses, grouped and ordered as isort does.

ruff's I001 (isort's defaults) and codegen must write the same block, or a
pre-commit run with both rewrites the output forever. The order, as ruff's
defaults give it: sections `__future__`, standard library, third party, first
party, relative imports, a blank line between them; in each, `import x` lines
before `from x import ...` lines, modules in natural order ignoring case;
`import a, b` split into one line each; one `from m import ...` per module,
names ordered constants, classes, then the rest, with each `name as alias`
on its own line after it. black wraps a line too long afterwards, as isort would.
"""

from __future__ import annotations

import ast
import io
import os
import re
import sys
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

_FUTURE, _STDLIB, _THIRD_PARTY, _FIRST_PARTY, _LOCAL = range(5)
_DIGITS = re.compile(r"(\d+)")


@dataclass
class _From:
    level: int
    module: str
    names: dict[str, str] = field(default_factory=dict)  # name: its comment, "" for none
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)  # (name, alias): comment
    opening: str = ""  # a comment after the bracket of `from m import (`


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key comparing runs of digits as numbers and letters ignoring case,
    then by case (`aB` before `ab`)."""
    parts = [(0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in _DIGITS.split(text) if p]
    return (*parts, (2, 0, text))


def _member(name: str) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    """Constants (`PI`), then classes (`Float`), then the rest, as isort orders them."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, _natural(name)


def _comments(line: str, statement: ast.stmt) -> tuple[str, str]:
    """The comments in the statement's text: those inside its brackets (`from m
    import (  # ...`), and the one after it on its last line (a `# noqa`)."""
    first, last = statement.lineno or 1, statement.end_lineno or 1
    lines = line.split("\n")[first - 1 : last]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return "", ""
    comments = [t for t in tokens if t.type == tokenize.COMMENT]
    inside = [t.string for t in comments if t.start[0] < len(lines)]
    after = [t.string for t in comments if t.start[0] == len(lines)]
    return "  ".join(inside), "  ".join(after)


def arrange(lines: Iterable[str], first_party: Callable[[str], bool]) -> list[str]:
    """The import statements in `lines` as isort writes them: one string per
    section (its lines joined by newlines). `first_party(top_level_module)`
    says which absolute imports are the project's own."""
    straight: dict[tuple[str, str], str] = {}  # (module, alias or ""): comment
    froms: dict[tuple[int, str], _From] = {}
    for line in lines:
        for statement in ast.parse(line).body:
            inside, comment = _comments(line, statement)
            if isinstance(statement, ast.Import):
                comment = "  ".join(c for c in (inside, comment) if c)
                for i, alias in enumerate(statement.names):
                    key = (alias.name, alias.asname or "")
                    straight[key] = straight.get(key) or (comment if i == 0 else "")
            elif isinstance(statement, ast.ImportFrom):
                place = (statement.level, statement.module or "")
                entry = froms.setdefault(place, _From(*place))
                entry.opening = "  ".join(c for c in (entry.opening, inside) if c)
                for alias in statement.names:
                    if alias.asname is None:
                        entry.names[alias.name] = entry.names.get(alias.name) or comment
                    else:
                        key = (alias.name, alias.asname)
                        entry.aliases[key] = entry.aliases.get(key) or comment
                    comment = ""  # a comment stays with the first line written for it
    sections: dict[int, list[tuple[tuple[object, ...], str]]] = {}

    def section(level: int, module: str) -> int:
        top = module.split(".")[0]
        if level:
            return _LOCAL
        if top == "__future__":
            return _FUTURE
        if top in sys.stdlib_module_names:
            return _STDLIB
        return _FIRST_PARTY if first_party(top) else _THIRD_PARTY

    def add(where: int, key: tuple[object, ...], code: str, comment: str) -> None:
        sections.setdefault(where, []).append((key, f"{code}  {comment}" if comment else code))

    for (module, asname), comment in straight.items():
        code = f"import {module} as {asname}" if asname else f"import {module}"
        add(section(0, module), (0, _natural(module), bool(asname), _natural(asname)), code, comment)
    for entry in froms.values():
        where = section(entry.level, entry.module)
        base = (1, -entry.level, _natural(entry.module))
        source = "." * entry.level + entry.module
        if entry.names:
            names = sorted(entry.names, key=_member)
            comment = next((entry.names[n] for n in names if entry.names[n]), "")
            if entry.opening:  # isort keeps such a comment where it was, the names one a line
                listed = "".join(f"    {name},\n" for name in names)
                code = f"from {source} import (  {entry.opening}\n{listed})"
            else:
                code = f"from {source} import {', '.join(names)}"
            add(where, (*base, 0, ()), code, comment)
        for (name, asname), comment in sorted(entry.aliases.items(), key=lambda item: (_member(item[0][0]), item[0][1])):
            add(where, (*base, 1, _member(name), _natural(asname)), f"from {source} import {name} as {asname}", comment)
    return ["\n".join(code for _, code in sorted(sections[s], key=lambda e: e[0])) for s in sorted(sections)]


def bound_names(line: str) -> list[str]:
    """The names an import statement binds (`import a.b` binds `a`)."""
    names: list[str] = []
    for statement in ast.parse(line).body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            names += [a.asname or a.name.split(".")[0] for a in statement.names]
    return names


def used_only(lines: Iterable[str], used: set[str]) -> list[str]:
    """The import statements of `lines` with the names nothing in `used` reads
    left out (a star import and `from __future__` always stay)."""
    kept: list[str] = []
    for line in lines:
        names = bound_names(line)
        future = line.lstrip().startswith("from __future__")
        if future or "*" in names or all(n in used for n in names):
            kept.append(line)
            continue
        tree = ast.parse(line)
        for statement in tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                statement.names = [a for a in statement.names if (a.asname or a.name.split(".")[0]) in used]
                if statement.names:
                    comment = "  ".join(c for c in _comments(line, statement) if c)
                    code = ast.unparse(statement)
                    kept.append(f"{code}  {comment}" if comment else code)
    return kept


def first_party(src: Sequence[str], local: str | None) -> Callable[[str], bool]:
    """Whether a top-level module is the project's own, as ruff decides: a module
    or package of that name in one of the `src` directories. Without `src` (no
    files known) only `local`, the input's own module, is."""

    def own(module: str) -> bool:
        if not src:
            return module == local
        return any(os.path.isfile(os.path.join(d, f"{module}.py")) or os.path.isdir(os.path.join(d, module)) for d in src)

    return own
