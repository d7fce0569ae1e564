"""Settings from `[tool.codegen]`, `[tool.black]` and ruff's configuration.

The file is found the way black finds its own: walk up from the deepest common
parent of the inputs to the first `pyproject.toml` holding the tool's table,
stopping at the repository root (a directory with `.git` or `.hg`). ruff's own
files, `.ruff.toml` and `ruff.toml`, count as its table wherever they are found
first, as ruff reads them.
"""

from __future__ import annotations

import difflib
import os
import string
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.errors import IGNORABLE, known_codes
from codegen.options import MODES, STYLES

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_OUTPUT = "{stem}_backward.py"


class ConfigError(Exception):
    """A configuration file cannot be read, or holds an unknown key or a bad value."""


@dataclass(frozen=True)
class Config:
    """Settings read from pyproject.toml; `None` means "not set there"."""

    output: str | None = None
    functions: tuple[str, ...] | None = None
    wrt: tuple[str, ...] | None = None
    line_length: int | None = None
    target_versions: tuple[str, ...] | None = None
    quiet: bool | None = None
    verbose: bool | None = None
    exit_nonzero_on_change: bool | None = None
    style: str | None = None
    return_value: bool | None = None
    mode: str | None = None
    assert_shapes: bool | None = None
    exclude: str | None = None
    extend_exclude: str | None = None
    ignore: tuple[str, ...] | None = None
    codegen_file: Path | None = None
    black_line_length: int | None = None
    black_target_versions: tuple[str, ...] | None = None
    black_file: Path | None = None
    ruff_line_length: int | None = None
    ruff_src: tuple[str, ...] | None = None
    ruff_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def src(self) -> tuple[str, ...]:
        """The directories of the project's own modules, as ruff decides: its `src`
        setting, else the directory of its configuration (else the current one)
        and that directory's `src`."""
        if self.ruff_src is not None:
            return self.ruff_src
        root = self.ruff_file.parent if self.ruff_file is not None else Path.cwd()
        return (str(root), str(root / "src"))


def target_version_names() -> tuple[str, ...]:
    """The target versions black knows, spelled as in its config (`py310`)."""
    from black import TargetVersion

    return tuple(v.name.lower() for v in TargetVersion)


def check_pattern(pattern: str, where: str) -> str:
    """Validate an output name pattern such as `{stem}_backward.py`."""
    try:
        parsed = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)]
    except ValueError as exc:
        raise ConfigError(f"{where}: bad output pattern {pattern!r}: {exc}") from None
    fields = {name for name, _, _ in parsed if name is not None}
    if any(name is not None and (spec or conversion) for name, spec, conversion in parsed):
        raise ConfigError(f"{where}: output pattern {pattern!r} formats {{stem}}; write it plainly, as {{stem}}")
    unknown = fields - {"stem"}
    if unknown:
        names = ", ".join(sorted("{" + n + "}" for n in unknown))
        raise ConfigError(
            f"{where}: output pattern {pattern!r} uses {names}; only {{stem}} is known"
        )
    if "stem" not in fields:
        raise ConfigError(f"{where}: output pattern {pattern!r} must contain {{stem}}")
    if pattern.format(stem="x").endswith(("/", os.sep)):
        raise ConfigError(f"{where}: output pattern {pattern!r} names a directory, not a file")
    return pattern


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f'{where} must be a list of names such as ["loss"], not {value!r}')
    return tuple(value)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive integer, not {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _versions(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    names = _names(value, where)
    known = target_version_names()
    for name in names:
        if name.lower() not in known:
            raise ConfigError(
                f"{where}: unknown target version {name!r} (known: {', '.join(known)})"
            )
    return tuple(n.lower() for n in names)


def _style(value: Any, where: str) -> str:
    style = _string(value, where)
    if style not in STYLES:
        raise ConfigError(f"{where}: style must be one of {', '.join(STYLES)}, not {style!r}")
    return style


def _mode(value: Any, where: str) -> str:
    mode = _string(value, where)
    if mode not in MODES:
        raise ConfigError(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def ignored_codes(codes: Sequence[str], where: str) -> tuple[str, ...]:
    """Validate rule codes to ignore: each must be known, and ignorable (a
    message that stops no output; see `codegen.errors.IGNORABLE`)."""
    known = known_codes()
    ignorable = "; ".join(f"{c}, {what}" for c, what in IGNORABLE.items())
    for code in codes:
        if code.upper() not in known:
            raise ConfigError(f"{where}: unknown rule code {code!r} (ignorable: {ignorable})")
        if code.upper() not in IGNORABLE:
            raise ConfigError(
                f"{where}: {code.upper()} cannot be ignored: an input with it has no output, "
                f"or its output cannot be written (ignorable: {ignorable})"
            )
    return tuple(dict.fromkeys(c.upper() for c in codes))


def _ignore(value: Any, where: str) -> tuple[str, ...]:
    return ignored_codes(_names(value, where), where)


def _output(value: Any, where: str) -> str:
    return check_pattern(_string(value, where), where)


CODEGEN_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "output": ("output", _output),
    "functions": ("functions", _names),
    "wrt": ("wrt", _names),
    "line-length": ("line_length", _positive_int),
    "target-version": ("target_versions", _versions),
    "quiet": ("quiet", _bool),
    "verbose": ("verbose", _bool),
    "exit-nonzero-on-change": ("exit_nonzero_on_change", _bool),
    "style": ("style", _style),
    "return-value": ("return_value", _bool),
    "mode": ("mode", _mode),
    "assert-shapes": ("assert_shapes", _bool),
    "exclude": ("exclude", _string),
    "extend-exclude": ("extend_exclude", _string),
    "ignore": ("ignore", _ignore),
}


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a `ConfigError`."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def common_base(paths: Iterable[Path]) -> Path:
    """The deepest directory containing every one of `paths` (files)."""
    parents = [str(Path(os.path.abspath(p)).parent) for p in paths]
    return Path(os.path.commonpath(parents)) if parents else Path.cwd()


def find_pyproject(start: Path, tool: str) -> tuple[Path | None, dict[str, Any]]:
    """The nearest pyproject.toml with a `[tool.<tool>]` table, and that table.

    The walk stops at a repository root; nothing found gives `(None, {})`.
    """
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = load_toml(candidate).get("tool", {})
            if isinstance(table, dict) and tool in table:
                section = table[tool]
                if not isinstance(section, dict):
                    raise ConfigError(f"{candidate}: [tool.{tool}] must be a table")
                return candidate, section
        if (directory / ".git").exists() or (directory / ".hg").is_dir():
            break
    return None, {}


def find_ruff(start: Path) -> tuple[Path | None, dict[str, Any]]:
    """ruff's configuration: the nearest `.ruff.toml`, `ruff.toml` or `pyproject.toml`
    with a `[tool.ruff]` table (in that order in each directory), and its table."""
    for directory in (start, *start.parents):
        for name in (".ruff.toml", "ruff.toml"):
            candidate = directory / name
            if candidate.is_file():
                return candidate, load_toml(candidate)
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            tools = load_toml(candidate).get("tool", {})
            if isinstance(tools, dict) and "ruff" in tools:
                if not isinstance(tools["ruff"], dict):
                    raise ConfigError(f"{candidate}: [tool.ruff] must be a table")
                return candidate, tools["ruff"]
        if (directory / ".git").exists() or (directory / ".hg").is_dir():
            break
    return None, {}


def parse_ruff_section(section: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Pick ruff's `line-length` and `src` (relative to its file); the rest is ruff's."""
    ruff = _normalise(section)
    values: dict[str, Any] = {}
    table = "" if path.name != "pyproject.toml" else " [tool.ruff]"
    if "line-length" in ruff:
        values["ruff_line_length"] = _positive_int(ruff["line-length"], f"{path}:{table} line-length")
    if "src" in ruff:
        src = _names(ruff["src"], f"{path}:{table} src")
        values["ruff_src"] = tuple(str(path.parent / d) for d in src)
    return values


def _normalise(section: Mapping[str, Any]) -> dict[str, Any]:
    return {key.replace("_", "-"): value for key, value in section.items()}


def parse_codegen_section(section: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Validate `[tool.codegen]` and return it as `Config` field values."""
    values: dict[str, Any] = {}
    for key, value in _normalise(section).items():
        if key not in CODEGEN_KEYS:
            close = difflib.get_close_matches(key, CODEGEN_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(CODEGEN_KEYS)
            raise ConfigError(
                f"{path}: unknown key {key!r} in [tool.codegen]{hint}; known keys: {known}"
            )
        attribute, convert = CODEGEN_KEYS[key]
        values[attribute] = convert(value, f"{path}: [tool.codegen] {key}")
    return values


def parse_black_section(section: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Pick black's `line-length` and `target-version`; other keys are black's business."""
    black = _normalise(section)
    values: dict[str, Any] = {}
    if "line-length" in black:
        values["black_line_length"] = _positive_int(
            black["line-length"], f"{path}: [tool.black] line-length"
        )
    if "target-version" in black:
        values["black_target_versions"] = _versions(
            black["target-version"], f"{path}: [tool.black] target-version"
        )
    return values


def load(inputs: Sequence[Path]) -> Config:
    """Read the configuration that applies to `inputs`."""
    start = common_base(inputs)
    values: dict[str, Any] = {}
    notes: list[str] = []
    codegen_file, codegen_section = find_pyproject(start, "codegen")
    if codegen_file is not None:
        values.update(parse_codegen_section(codegen_section, codegen_file))
        values["codegen_file"] = codegen_file
        notes.append(f"using [tool.codegen] from {codegen_file}")
    black_file, black_section = find_pyproject(start, "black")
    if black_file is not None:
        values.update(parse_black_section(black_section, black_file))
        values["black_file"] = black_file
        notes.append(f"using [tool.black] from {black_file}")
    ruff_file, ruff_section = find_ruff(start)
    if ruff_file is not None:
        values.update(parse_ruff_section(ruff_section, ruff_file))
        values["ruff_file"] = ruff_file
        table = "[tool.ruff]" if ruff_file.name == "pyproject.toml" else "ruff's settings"
        notes.append(f"using {table} from {ruff_file}")
    return Config(**values, notes=notes)
