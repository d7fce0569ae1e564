"""Shared fixtures: a throwaway project directory and the real `codegen` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen.emit import format as fmt

RunCodegen = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(autouse=True, scope="session")
def _own_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The codegen commands the tests run keep their cache in a directory of the
    session's, not the user's cache directory."""
    saved = os.environ.get("CODEGEN_CACHE_DIR")
    os.environ["CODEGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("codegen-cache"))
    yield
    if saved is None:
        del os.environ["CODEGEN_CACHE_DIR"]
    else:
        os.environ["CODEGEN_CACHE_DIR"] = saved


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project root; its `.git` marker stops the pyproject.toml search here."""
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.fixture
def codegen(project: Path) -> RunCodegen:
    """Run `python -m codegen ARGS` in a subprocess, in `project` unless `cwd` is given."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codegen", *args],
            cwd=cwd or project,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected outputs of golden cases and examples",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def formats_as_black_alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With CODEGEN_CHECK_FORMAT=1, every module generated in-process is also
    formatted by black alone, and both must agree (a slow, thorough run)."""
    if os.environ.get("CODEGEN_CHECK_FORMAT", "") in ("", "0"):
        yield
        return
    fast = fmt.format_code

    def check(code: str, **kwargs: Any) -> str:
        formatted = fast(code, **kwargs)
        assert formatted == fmt.black_only(code, **kwargs), "lines set aside from black differ from black's"
        return formatted

    monkeypatch.setattr(fmt, "format_code", check)
    yield
