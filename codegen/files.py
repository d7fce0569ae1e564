"""Files on disk: reading forward sources, naming outputs, writing atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from codegen.api import is_generated
from codegen.errors import CodegenError, Problem


def decode_source(data: bytes, display: str) -> str:
    """Decode a forward file as UTF-8 with universal newlines, as Python reads source.

    Bytes that are not UTF-8 raise `CodegenError` pointing at the first bad byte.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line_end = data.find(b"\n", exc.start)
        raw_line = data[line_start : line_end if line_end >= 0 else len(data)]
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        problem = Problem(
            display,
            data.count(b"\n", 0, exc.start) + 1,
            column,
            f"cannot decode byte 0x{data[exc.start]:02x}: codegen reads source files as UTF-8",
            raw_line.decode("utf-8", "replace"),
        )
        raise CodegenError([problem]) from None
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def output_path(source: Path, pattern: str) -> Path:
    """Where the output for `source` goes: `pattern` with `{stem}` filled, beside it."""
    target = Path(pattern.format(stem=source.stem))
    return target if target.is_absolute() else source.parent / target


def read_existing(path: Path) -> bytes | None:
    """The current bytes at `path`, or `None` when there is no such file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def is_generated_bytes(data: bytes) -> bool:
    """True when `data` starts with codegen's generated header."""
    return is_generated(data[:4096].decode("utf-8", "replace"))


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never half.

    The bytes go to a temporary file in the same directory, which is then renamed
    over `path`; a symlinked `path` has its target replaced.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
