"""Shared fixtures: a throwaway project directory and the real `codegen` command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCodegen = Callable[..., "subprocess.CompletedProcess[str]"]


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
