"""Inputs whose output is known to be up to date, skipped as black skips files.

The cache lives where black keeps its own, in the user's cache directory:
`$XDG_CACHE_HOME/codegen/<version>` (`~/.cache/codegen/<version>`), macOS's
`~/Library/Caches/codegen/<version>`, Windows' `%LOCALAPPDATA%\\codegen\\Cache\\<version>`;
`CODEGEN_CACHE_DIR` replaces the `codegen` directory, as `BLACK_CACHE_DIR` does
black's. One file per set of settings (`cache.<key>.json`): the key hashes
codegen's and black's versions and every setting that changes an output.

An entry maps a forward file and its output to the sha256 of both as codegen
last read or wrote them, and to whether each module the input imports is the
project's own (found in ruff's `src`: that decides the grouping of imports). An
input is skipped only when all of it still holds: an output deleted, edited or
replaced is always generated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegen import __version__
from codegen.emit.imports import first_party


def directory() -> Path:
    """The cache directory of this codegen version."""
    override = os.environ.get("CODEGEN_CACHE_DIR")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "codegen" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "codegen"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codegen"
    return base / __version__


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def settings_key(settings: Mapping[str, object]) -> str:
    """The key of a cache file: codegen's and black's versions, and the settings
    that shape outputs."""
    from importlib.metadata import version

    text = json.dumps([__version__, version("black"), dict(settings)], sort_keys=True, default=repr)
    return digest(text.encode("utf-8"))[:32]


# Names after `import` or `from`: more than the module's imports (words in
# comments, a notebook's JSON), never fewer; each extra costs a look in `src`.
_IMPORTED = re.compile(rb"\b(?:import|from)\s+([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*)")


def context(source: Path, data: bytes, src: Sequence[str]) -> str:
    """Which of the modules `data` may import are the project's own."""
    names = {part.strip().split(b".")[0] for match in _IMPORTED.findall(data) for part in match.split(b",")}
    own = first_party(src, source.stem if source.stem.isidentifier() else None)
    return digest(json.dumps(sorted((n.decode(), own(n.decode())) for n in names if n)).encode("utf-8"))


def _entry(source: Path, target: Path) -> str:
    return f"{os.path.realpath(source)}\n{os.path.realpath(target)}"


class Cache:
    """The entries of one cache file; `save` writes back what this run learnt."""

    def __init__(self, path: Path, src: Sequence[str] = ()) -> None:
        self.path = path
        self.src = src
        self.entries: dict[str, list[str]] = {}
        self.changed = False
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(loaded, dict):
            self.entries = {
                k: v for k, v in loaded.items() if isinstance(v, list) and len(v) == 3 and all(isinstance(s, str) for s in v)
            }

    @classmethod
    def for_settings(cls, settings: Mapping[str, object], src: Sequence[str]) -> Cache:
        return cls(directory() / f"cache.{settings_key(settings)}.json", src)

    def fresh(self, source: Path, target: Path) -> bool:
        """Whether `target` is the output of `source` as it is now, as recorded."""
        recorded = self.entries.get(_entry(source, target))
        if recorded is None:
            return False
        try:
            data = source.read_bytes()
            return [digest(data), digest(target.read_bytes()), context(source, data, self.src)] == recorded
        except OSError:
            return False

    def record(self, source: Path, target: Path, source_hash: str, output_hash: str) -> None:
        """Remember that `source`, with these bytes, has the output with those."""
        try:
            data = source.read_bytes()
        except OSError:
            return
        if digest(data) != source_hash:
            return  # changed since it was read: the next run differentiates it again
        key = _entry(source, target)
        entry = [source_hash, output_hash, context(source, data, self.src)]
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self.changed = True

    def save(self) -> None:
        """Write the entries atomically; a cache that cannot be written is no error."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cache.", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.entries, f)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
