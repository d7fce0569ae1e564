"""Many inputs at once: in parallel, in a deterministic order, and skipped
through a cache when nothing changed (as black does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import __version__
from codegen.cli import cache
from tests.test_cli import FWD, OTHER, UNSUPPORTED, RunCodegen, write, write_notebook


def many(project: Path) -> None:
    for i in range(5):
        write(project / "pkg" / f"m{i}.py", FWD.replace("def f(", f"def f{i}("))
    write(project / "pkg" / "bad.py", UNSUPPORTED)
    write(project / "pkg" / "plain.py", "X = 1\n")
    write(project / "pkg" / "sub" / "other.py", OTHER)
    write_notebook(project / "pkg" / "nb.ipynb", FWD)


def outputs(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*_backward.py"))}


def test_parallel_workers_write_the_same_outputs_and_messages_in_the_same_order(
    project: Path, codegen: RunCodegen
) -> None:
    many(project)
    copy = project / "copy"
    shutil.copytree(project / "pkg", copy / "pkg")
    (copy / ".git").mkdir()
    one = codegen("--no-cache", "-W", "1", "pkg")
    several = codegen("--no-cache", "--workers", "3", "pkg", cwd=copy)
    assert one.returncode == several.returncode == 1  # bad.py
    assert one.stderr == several.stderr
    lines = one.stderr.splitlines()
    assert lines.index("wrote pkg/m0_backward.py") < lines.index("wrote pkg/m4_backward.py") < lines.index(
        "wrote pkg/nb_backward.py"
    )
    assert "pkg/bad.py:5:9: error: list comprehensions" in one.stderr
    assert outputs(project / "pkg") == outputs(copy / "pkg") and len(outputs(project / "pkg")) == 7
    found = [codegen("--no-cache", "-W", w, "--check", "-q", "--output-format", "json", "pkg").stdout for w in "13"]
    assert found[0] == found[1] and json.loads(found[0])[0]["code"] == "CG103"


def test_an_unchanged_input_is_skipped_through_the_cache(project: Path, codegen: RunCodegen) -> None:
    write(project / "fwd.py", FWD)
    write(project / "other.py", OTHER)
    assert codegen("fwd.py", "other.py").returncode == 0
    files = list((Path(os.environ["CODEGEN_CACHE_DIR"]) / __version__).glob("cache.*.json"))
    assert files, "no cache written"
    again = codegen("-v", "fwd.py", "other.py")
    assert "fwd_backward.py is up to date (cached)" in again.stderr and "2 files unchanged." in again.stderr
    check = codegen("-v", "--check", "fwd.py")
    assert check.returncode == 0 and "(cached)" in check.stderr
    assert "(cached)" not in codegen("-v", "--no-cache", "fwd.py").stderr
    assert "(cached)" not in codegen("-v", "-l", "60", "fwd.py").stderr  # other settings, another cache file
    assert "wrote fwd_backward.py" in codegen("fwd.py").stderr  # back to the line length 88


def test_the_cache_never_skips_a_missing_or_edited_output(project: Path, codegen: RunCodegen) -> None:
    write(project / "fwd.py", FWD)
    assert codegen("fwd.py").returncode == 0
    output = project / "fwd_backward.py"
    generated = output.read_text()
    output.write_text(generated.replace("return dx, dy", "return dy, dx"))
    assert codegen("--check", "fwd.py").returncode == 1
    fixed = codegen("fwd.py")
    assert "wrote fwd_backward.py" in fixed.stderr and output.read_text() == generated
    output.unlink()
    assert "wrote fwd_backward.py" in codegen("fwd.py").stderr and output.read_text() == generated
    write(project / "fwd.py", FWD.replace("x * y", "x * y * y"))
    assert "wrote fwd_backward.py" in codegen("fwd.py").stderr and output.read_text() != generated
    output.write_text("# mine\n")  # no longer codegen's: refused, never skipped
    refused = codegen("fwd.py")
    assert refused.returncode == 1 and "CG503" in refused.stderr


def test_the_cache_key_holds_versions_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"line_length": 88, "style": "fused"}
    key = cache.settings_key(settings)
    assert key == cache.settings_key(dict(settings))
    assert key != cache.settings_key({**settings, "line_length": 60})
    monkeypatch.setattr(cache, "__version__", "0.0.0-other")
    assert cache.settings_key(settings) != key


def test_a_new_module_of_the_project_is_no_cache_hit(project: Path, codegen: RunCodegen) -> None:
    """ruff's src decides the grouping of imports: a module appearing there changes the output."""
    write(project / "pyproject.toml", '[tool.ruff]\nsrc = ["src"]\n')
    write(project / "fwd.py", "import math\n\nimport helpers\n\n\ndef f(x):\n    return math.exp(x) * helpers.K\n")
    assert codegen("fwd.py").returncode == 0
    assert "(cached)" in codegen("-v", "fwd.py").stderr
    write(project / "src" / "helpers.py", "K = 2.0\n")
    assert "(cached)" not in codegen("-v", "fwd.py").stderr


def test_a_cache_file_that_cannot_be_read_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache.x.json"
    path.write_text("{not json")
    assert cache.Cache(path).entries == {}
    path.write_text(json.dumps({"a": "b", "c": ["d", "e", "f"], "f": [1, 2, 3]}))
    assert cache.Cache(path).entries == {"c": ["d", "e", "f"]}
    source, target = tmp_path / "fwd.py", tmp_path / "fwd_backward.py"
    source.write_text(FWD)
    target.write_text("out")
    known = cache.Cache(path)
    assert not known.fresh(source, target)
    known.record(source, target, cache.digest(source.read_bytes()), cache.digest(b"out"))
    known.save()
    assert cache.Cache(path).fresh(source, target)
    target.write_text("edited")
    assert not cache.Cache(path).fresh(source, target)


def test_the_cache_is_in_the_user_cache_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CODEGEN_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    code = "from codegen.cli import cache; print(cache.directory())"
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    if sys.platform not in ("win32", "darwin"):
        assert Path(found.stdout.strip()) == tmp_path / "xdg" / "codegen" / __version__
    env["CODEGEN_CACHE_DIR"] = str(tmp_path / "mine")
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()) == tmp_path / "mine" / __version__


def test_the_pool_is_joined_on_leaving_its_block() -> None:
    """A pool left for the interpreter's exit races its clean-up (OSError: Bad
    file descriptor from concurrent.futures at exit, seen on Python 3.11)."""
    import multiprocessing
    import threading

    from codegen.cli import jobs

    threads = set(threading.enumerate())
    with jobs.ordered(abs, [-3, 2, -1], 2) as results:
        assert [next(results) for _ in range(3)] == [3, 2, 1]  # taken one by one, never exhausted
    assert multiprocessing.active_children() == []
    assert set(threading.enumerate()) <= threads
    with pytest.raises(ZeroDivisionError), jobs.ordered(abs, [1, 2], 2) as results:
        next(results)
        raise ZeroDivisionError
    assert multiprocessing.active_children() == []
    with jobs.ordered(abs, [-1], 4) as results:  # one job: no pool
        assert list(results) == [1]
