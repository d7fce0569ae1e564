"""Forward files under a directory argument, found the way black finds its files.

A directory is walked recursively and every `.py` file in it is a candidate,
and so is every notebook (`.ipynb`) that defines a public function at a code
cell's top level, unless a `.py` of the same stem lies beside it (its text
form, as jupytext pairs them; both would write one output), except those a
`.gitignore` ignores (the project root's, and each walked
directory's, for the paths below it) and those whose path matches `exclude`
(by default black's: version control, caches, build output, virtual
environments) or `extend_exclude`. A path is matched as black matches it: from
the project root, with `/` separators, a leading `/` and, for a directory, a
trailing `/`. Files named on the command line are always taken.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pathspec import PathSpec

from codegen.read import notebook

DEFAULT_EXCLUDES = (
    r"/(\.direnv|\.eggs|\.git|\.hg|\.ipynb_checkpoints|\.mypy_cache|\.nox|\.pytest_cache|\.ruff_cache"
    r"|\.tox|\.svn|\.venv|\.vscode|__pypackages__|_build|buck-out|build|dist|venv)/"
)


def project_root(path: Path) -> Path:
    """The nearest directory at or above `path` holding `.git`, `.hg` or a
    `pyproject.toml` (black's project root); the file system's root if none."""
    start = Path(os.path.abspath(path))
    for directory in (start, *start.parents):
        if (directory / ".git").exists() or (directory / ".hg").is_dir() or (directory / "pyproject.toml").is_file():
            return directory
    return Path(start.anchor)


def _gitignore(directory: Path) -> PathSpec | None:
    try:
        lines = (directory / ".gitignore").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return PathSpec.from_lines("gitwildmatch", lines)


def forward_files(directory: Path, exclude: re.Pattern[str], extend_exclude: re.Pattern[str] | None) -> list[Path]:
    """The `.py` files and forward notebooks under `directory`, in sorted order,
    without those ignored or excluded."""
    root = project_root(directory)
    top = Path(os.path.abspath(directory))
    specs: list[tuple[Path, PathSpec]] = []
    for ancestor in [root, *(root / p for p in _between(root, top))]:
        spec = _gitignore(ancestor)
        if spec is not None:
            specs.append((ancestor, spec))
    found: list[Path] = []

    def skipped(path: Path, is_dir: bool) -> bool:
        relative = "/" + path.relative_to(root).as_posix() + ("/" if is_dir else "")
        if exclude.search(relative) or (extend_exclude is not None and extend_exclude.search(relative)):
            return True
        for base, spec in specs:
            if base == path or base not in path.parents:
                continue
            text = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            if spec.match_file(text):
                return True
        return False

    def walk(folder: Path) -> None:
        spec = _gitignore(folder) if folder not in {base for base, _ in specs} else None
        if spec is not None:
            specs.append((folder, spec))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        names = {entry.name for entry in entries}
        for entry in entries:
            path = folder / entry.name
            if entry.is_dir(follow_symlinks=False):
                if not skipped(path, True):
                    walk(path)
            elif entry.name.endswith(".py") and entry.is_file() and not skipped(path, False):
                found.append(path)
            elif notebook.is_notebook(entry.name) and not skipped(path, False) and is_forward_notebook(entry, names):
                found.append(path)  # read only when no exclude leaves it out
        if spec is not None:
            specs.remove((folder, spec))

    walk(top)
    return [Path(os.path.relpath(p)) if not directory.is_absolute() else p for p in found]


def is_forward_notebook(entry: os.DirEntry[str], names: set[str]) -> bool:
    """A notebook defining a public function, without a `.py` of its stem beside it."""
    if not entry.is_file():
        return False
    if entry.name[: -len(notebook.SUFFIX)] + ".py" in names:
        return False
    try:
        with open(entry.path, encoding="utf-8") as f:
            return notebook.defines_functions(f.read())
    except (OSError, UnicodeDecodeError):
        return True  # reported when it is read


def _between(root: Path, top: Path) -> list[Path]:
    """The directories from just below `root` down to `top`, relative to `root`."""
    relative = top.relative_to(root)
    return [Path(*relative.parts[: i + 1]) for i in range(len(relative.parts))]
