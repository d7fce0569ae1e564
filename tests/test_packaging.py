"""The wheel users install: its name, metadata, license, typing marker and command.

The wheel is built from this checkout by pip, in its usual isolated build
environment (setuptools comes from the package index), once for the module.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 and ("No matching distribution" in result.stderr or "connection" in result.stderr.lower()):
        pytest.skip(f"no package index to build with: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stderr
    (path,) = out.glob("*.whl")
    return path


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


def test_the_distribution_has_its_own_name_and_the_command_and_import_stay(wheel: Path) -> None:
    assert metadata(wheel)["Name"] == "codegen-backprop"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
        assert "codegen = codegen.cli.main:main" in archive.read(entry_points).decode()
    assert "codegen/__init__.py" in names


def test_the_wheel_carries_license_classifiers_and_a_black_range(wheel: Path) -> None:
    meta = metadata(wheel)
    with zipfile.ZipFile(wheel) as archive:
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    assert meta["License-File"] == "LICENSE"
    classifiers = meta.get_all("Classifier") or []
    assert "License :: OSI Approved :: MIT License" in classifiers and "Typing :: Typed" in classifiers
    requires = meta.get_all("Requires-Dist") or []
    assert "black<27,>=24.1" in requires  # never a pin that moves the user's formatter


def test_import_codegen_is_typed(wheel: Path, tmp_path: Path) -> None:
    """mypy sees the installed package's py.typed: no import-untyped on `import codegen`."""
    pytest.importorskip("mypy")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert "codegen/py.typed" in archive.namelist()
        archive.extractall(site)
    check = tmp_path / "check.py"
    check.write_text('import codegen\n\ncode: str = codegen.generate("def f(x):\\n    return x * x\\n")\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(check)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
