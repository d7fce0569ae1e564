"""Generated code passes the user's linters wherever its input does.

Every example is generated in each style and mode, and ruff (its default rules,
and the `E4,E7,E9,F` set) may report on an output only what it reports on the
input; its isort rule (I001) reports nothing on any output, so that `ruff
--fix` and codegen never rewrite each other's imports.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import codegen
from codegen.emit.imports import arrange
from tests.test_golden import case_files, case_options, split_case

EXAMPLES = Path(__file__).parent.parent / "examples"
VARIANTS: dict[str, dict[str, object]] = {
    "fused": {},
    "split": {"style": "split"},
    "value": {"return_value": True},
    "forward": {"mode": "forward"},
    "hvp": {"mode": "hvp"},
    "asserts": {"assert_shapes": True},
}


def ruff(paths: list[Path], *flags: str) -> dict[str, set[str]]:
    """The rule codes ruff reports, per file (ruff's defaults: no configuration read)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--exit-zero", "--output-format", "json", *flags, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, set[str]] = {str(p): set() for p in paths}
    for message in json.loads(result.stdout):
        found.setdefault(message["filename"], set()).add(message["code"])
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """(input, output) pairs: every example in every variant, every golden case."""
    pytest.importorskip("ruff")
    root = tmp_path_factory.mktemp("lint")
    pairs: list[tuple[Path, Path]] = []
    for path in sorted(EXAMPLES.glob("*.py")):
        if path.stem.endswith("_backward"):
            continue
        source = path.read_text(encoding="utf-8")
        forward = root / path.name
        forward.write_text(source, encoding="utf-8")
        for variant, options in VARIANTS.items():
            output = root / f"{path.stem}__{variant}.py"
            output.write_text(codegen.generate(source, filename=path.name, **options), encoding="utf-8")  # type: ignore[arg-type]
            pairs.append((forward, output))
    for path in case_files():
        source, expected = split_case(path)
        forward = root / f"case_{path.name}"
        forward.write_text(source, encoding="utf-8")
        output = root / f"case_{path.stem}__golden.py"
        output.write_text(codegen.generate(source, filename=path.name, **case_options(source)), encoding="utf-8")
        pairs.append((forward, output))
    return pairs


@pytest.mark.parametrize("rules", [(), ("--select", "E4,E7,E9,F")], ids=["defaults", "E4-E7-E9-F"])
def test_ruff_reports_nothing_on_an_output_it_does_not_report_on_its_input(
    generated: list[tuple[Path, Path]], rules: tuple[str, ...]
) -> None:
    found = ruff(sorted({p for pair in generated for p in pair}), *rules)
    extra = {
        output.name: sorted(found[str(output)] - found[str(forward)])
        for forward, output in generated
        if found[str(output)] - found[str(forward)]
    }
    assert not extra


def test_imports_are_grouped_as_isort_groups_them(generated: list[tuple[Path, Path]]) -> None:
    found = ruff([output for _, output in generated], "--select", "I")
    assert not {name: codes for name, codes in found.items() if codes}


IMPORTS = """\
from __future__ import annotations
import numpy as np
from math import log as ln, exp, PI, Foo, bar
import math, sys
from jaxtyping import Float
import os.path
from numpy import ndarray
from math import sqrt, x10, x2, aB, ab
import Zeta
import alpha  # noqa: F401
from layers import foo, foo_backward
from . import local
from .. import up
import numpy
from os import (  # the path
    path,
)
x = 1
"""


@pytest.mark.parametrize("first_party", [False, True], ids=["layers-third-party", "layers-first-party"])
def test_import_order_is_ruffs_own(tmp_path: Path, first_party: bool) -> None:
    """ruff's isort fix of a jumbled block, and codegen's arrangement, are the same text."""
    pytest.importorskip("ruff")
    if first_party:
        (tmp_path / "layers.py").write_text("", encoding="utf-8")
    lines = IMPORTS.splitlines()[:-1]
    lines[-3:] = ["\n".join(lines[-3:])]
    own = "\n\n".join(arrange(lines, lambda module: first_party and module == "layers")) + "\n\nx = 1\n"
    path = tmp_path / "jumbled.py"
    path.write_text(IMPORTS, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I", "--fix", "--exit-zero", "-q", path.name],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    assert own == path.read_text(encoding="utf-8")


def test_every_line_fits_the_line_length(generated: list[tuple[Path, Path]]) -> None:
    found = ruff([output for _, output in generated], "--select", "E501", "--line-length", "88")
    assert not {name: codes for name, codes in found.items() if codes}


@pytest.mark.parametrize("example", ["lstm_step", "two_layer_net", "softmax_loss"])
@pytest.mark.parametrize("options", [{}, {"style": "split"}, {"mode": "hvp"}], ids=["fused", "split", "hvp"])
def test_docstrings_and_comments_are_wrapped_to_a_short_line_length(example: str, options: dict[str, object]) -> None:
    source = (EXAMPLES / f"{example}.py").read_text(encoding="utf-8")
    code = codegen.generate(source, filename=f"{example}.py", line_length=60, **options)  # type: ignore[arg-type]
    long = [line for line in code.splitlines()[2:] if len(line) > 60]  # the header's hash is one word
    assert not long
    wide = codegen.generate(source, filename=f"{example}.py", line_length=200, **options)  # type: ignore[arg-type]
    assert _docstrings(code) == _docstrings(wide)  # the same words, only wrapped
    if example == "two_layer_net" and not options:  # the comment over the L2 term goes on
        wrapped = "    # backprop reg_loss = 0.5 * reg * (np.sum(W1 * W1) +\n    #     np.sum(W2 * W2))\n"
        assert wrapped in code


def _docstrings(code: str) -> dict[str, str]:
    tree = ast.parse(code)
    return {
        node.name: " ".join((ast.get_docstring(node) or "").split())
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
    }
