"""Every black in the supported range writes the same outputs, byte for byte.

codegen accepts a range of black (`pyproject.toml`) so as never to move the
user's own formatter. The newest in the range is the one installed here; the
oldest is installed into a scratch directory from the package index (one
download, a few seconds) and run in a subprocess ahead of it on the path. Under
it, every golden case and example is generated again and must be its golden
file (and the examples at line length 60 what the newest writes), which black
alone, old and new, leaves unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import codegen
from codegen.emit.format import black_only
from tests.test_golden import case_files, split_case

ROOT = Path(__file__).resolve().parents[1]

# Run under the oldest black: regenerate each golden output, and format it with black alone.
CHECK = """
import json, re, sys
from pathlib import Path
import black, codegen
from codegen.emit.format import black_only
wrong = []
for source, expected, options in json.loads(Path(sys.argv[1]).read_text()):
    if codegen.generate(source, **options) != expected:
        wrong.append(("generated", options["filename"]))
    if black_only(expected, line_length=options.get("line_length", 88)) != expected:
        wrong.append(("black alone", options["filename"]))
print(json.dumps({"version": black.__version__, "wrong": wrong}))
"""


def oldest_black() -> str:
    """The lower bound of the black requirement in pyproject.toml (`24.1` -> `24.1.0`)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"black>=([0-9.]+),<([0-9.]+)"', text)
    assert match, "black's requirement is a range: black>=OLDEST,<NEXT"
    parts = match.group(1).split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def golden() -> list[tuple[str, str, dict[str, object]]]:
    """(source, expected output, generate's keyword arguments) of every golden file."""
    cases: list[tuple[str, str, dict[str, object]]] = []
    for path in case_files():
        source, expected = split_case(path)
        line = re.search(r"^# options: (.+)$", source, flags=re.MULTILINE)
        options = eval(f"dict({line.group(1)})") if line else {}
        cases.append((source, expected, {"filename": path.name, **options}))
    for path in sorted((ROOT / "examples").glob("*_backward.py")):
        forward = path.with_name(path.name.removesuffix("_backward.py") + ".py")
        source = forward.read_text(encoding="utf-8")
        cases.append((source, path.read_text(encoding="utf-8"), {"filename": forward.name}))
        # Narrow lines split where black's versions once differed (powers hugged before measuring).
        narrow = {"filename": forward.name, "line_length": 60}
        cases.append((source, codegen.generate(source, **narrow), narrow))  # type: ignore[arg-type]
    return cases


def test_the_newest_black_leaves_every_golden_output_as_it_is() -> None:
    for _, expected, options in golden():
        assert black_only(expected, line_length=options.get("line_length", 88)) == expected, options["filename"]  # type: ignore[arg-type]


def test_the_oldest_supported_black_writes_the_same_outputs(tmp_path: Path) -> None:
    version = oldest_black()
    target = tmp_path / "old-black"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target), f"black=={version}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install black=={version} from the package index: {install.stderr.strip()[-300:]}")
    import json

    data = tmp_path / "cases.json"
    data.write_text(json.dumps(golden()), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), str(ROOT)]))
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(data)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["version"] == version
    assert report["wrong"] == []
