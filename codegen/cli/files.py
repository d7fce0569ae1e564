"""Files on disk: reading forward sources, naming outputs, writing atomically."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

from codegen.emit.header import is_generated
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


class NotGenerated(Exception):
    """A file without codegen's header appeared at the output path while codegen ran."""


# Temporaries are named `.<output>.codegen-<pid>-<random>.tmp`: a run killed
# before its rename leaves one, which a later run recognises and removes.
_TEMP_INFIX = ".codegen-"


def write_atomic(path: Path, data: bytes, expected: bytes | None = None) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never half.

    The bytes go to a temporary file in the same directory, which is then renamed
    over `path`; a symlinked `path` has its target replaced, but no directory is
    created for a symlink's target. `expected` is what `path` held when codegen
    read it (None: nothing): a file without codegen's header found there at the
    rename is never replaced (`NotGenerated`).
    """
    if not os.path.islink(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"{path} is a symlink into a missing directory", str(path))
    _remove_stale_temporaries(target)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{_TEMP_INFIX}{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        _rename_unless_replaced(tmp, target, expected)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _rename_unless_replaced(tmp: str, target: Path, expected: bytes | None) -> None:
    """`os.replace(tmp, target)`, unless a file codegen did not write took `target`'s
    place since it was read. Where there was none, a hard link claims the name
    atomically; elsewhere (or where links are not supported) the header is read
    again just before the rename."""
    if expected is None:
        try:
            os.link(tmp, target)
        except FileExistsError:
            pass
        except OSError:
            pass  # no hard links here: check, then rename
        else:
            os.unlink(tmp)
            return
    current = read_existing(target)
    if current is not None and current != expected and not is_generated_bytes(current):
        raise NotGenerated(str(target))
    os.replace(tmp, target)


# A temporary younger than this may be another machine's (a shared file system).
_STALE_SECONDS = 60.0


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporaries of earlier runs for `target` whose process is gone."""
    prefix = f".{target.name}{_TEMP_INFIX}"
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    now = time.time()
    for name in names:
        pid = name[len(prefix) :].partition("-")[0]
        if not pid.isdigit() or _is_running(int(pid)):
            continue
        path = target.parent / name
        try:
            if now - path.stat().st_mtime > _STALE_SECONDS:
                path.unlink()
        except OSError:
            pass


def _is_running(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # signal 0 is no probe on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's, or cannot tell: leave it
    return True
