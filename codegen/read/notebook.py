"""Jupyter notebooks as forward modules: their code cells, one after another.

A notebook is read with nbformat, the format's own library. IPython's own
syntax is no Python and is left out: a cell magic (`%%bash`) skips its whole
cell, a line magic (`%matplotlib inline`), a shell line (`!pip install ...`,
`files = !ls`) and a help request (`np.sum?`) their line, which stays as a
`pass` so that lines and cells keep their numbers. Problems are reported at
`model.ipynb:cell N:LINE:COL`, N counting the code cells from 1, as ruff does.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import nbformat

from codegen.errors import CodegenError, Problem
from codegen.read.sourcemap import Assembled, Piece

SUFFIX = ".ipynb"

# An IPython line that is no Python: a magic, a shell escape (maybe assigned), a help request.
_IPYTHON_LINE = re.compile(r"^\s*(?:[%!]|\?|[\w.]+\s*=\s*[%!])|^\s*[\w.]+\?{1,2}\s*$")


def is_notebook(filename: str) -> bool:
    return filename.endswith(SUFFIX)


# A public function defined at a cell's top level: what makes a notebook a forward file.
_PUBLIC_DEF = re.compile(r"^def\s+[^\W_]\w*\s*\(", re.M)


def defines_functions(text: str) -> bool:
    """Whether a notebook's code cells define a public function at top level (a
    directory search takes only those notebooks); one nbformat cannot read is
    taken, so that its problem is reported."""
    try:
        notebook = _read(text, "")
    except CodegenError:
        return True
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code" and _PUBLIC_DEF.search(source):
            return True
    return False


def assemble(text: str, display: str, output_module: str | None = None) -> Assembled:
    """The notebook's code cells as one module, each line remembering its cell.

    A cell importing `output_module` (the notebook's generated backward, as the
    notebook uses it) is read without that import, which the output would
    otherwise copy and so import itself. Raises `CodegenError` when `text` is
    not a notebook nbformat can read.
    """
    notebook = _read(text, display)
    assembled = Assembled()
    number = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if not source.strip() or source.lstrip().startswith("%%"):
            continue
        lines = source.replace("\r\n", "\n").split("\n")
        python = [_python_line(line) for line in lines]
        if output_module is not None:
            _drop_imports_of(output_module, python)
        piece = Piece(f"{display}:cell {number}", 1, tuple(line + "\n" for line in lines))
        assembled.add(piece, "\n".join(python) + "\n")
    return assembled


def _read(text: str, display: str) -> Any:
    """The notebook in `text`, version 4; `CodegenError` when nbformat cannot read it."""
    try:
        return nbformat.reads(text, as_version=4)  # older notebooks are converted
    except Exception as exc:  # nbformat raises JSON, validation and version errors alike
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CodegenError([Problem(display, 1, 1, f"cannot read the notebook: {reason}")]) from None


def _python_line(line: str) -> str:
    if not _IPYTHON_LINE.match(line):
        return line
    return line[: len(line) - len(line.lstrip())] + "pass"


def _drop_imports_of(module: str, lines: list[str]) -> None:
    """Each top-level import of `module` in the cell's `lines` becomes a `pass`."""
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return  # reported with its position when the module is parsed
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            names = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and not statement.level:
            names = [statement.module or ""]
        else:
            continue
        if module in names:
            end = statement.end_lineno or statement.lineno
            lines[statement.lineno - 1 : end] = ["pass"] + [""] * (end - statement.lineno)


def cell_of(assembled: Assembled, error: CodegenError, display: str) -> CodegenError:
    """`error`, found in the assembled module, at its cells and lines."""
    fallback = Piece(display, 1, ("",))
    return assembled.user_error(error, fallback)
