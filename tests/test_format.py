"""Formatting: setting simple lines aside from black changes nothing black would print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import codegen
from codegen.emit import format as fmt

ROOT = Path(__file__).resolve().parents[1]
INPUTS = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.stem.endswith("_backward"))
INPUTS += sorted((ROOT / "tests" / "cases").glob("*.py"))

TRICKY = '''\
import numpy as np


def f(x, w: "N D", xs):
    # forward pass
    a = x * 2
    b = a ** 2 + x
    p = (1 - t ** 2) * dz + 1.5 ** 2
    q = x.y ** 2 + w[0] ** 2 + np.exp(x) ** 2 + x ** -1 + 2 ** x + -x ** 2 + x ** 2 ** 3
    q = (a + b) * (c - d)
    q = (a + b)
    q = (a + b) * c, d
    q = x_1 ** 2.5 + 1e-3 ** 2 + w[t ** 2] + f(t ** 2, u ** 3)
    c = np.sum(w[:, 1:3], axis=0) * a
    d = (a, b)
    e = w[np.arange(3), 0]
    s = 'text'
    settings['running_mean'] = a
    g = a if a > 0 else b
    h = lambda t: t
    for i in range(3):
        a = a * 2
        # a comment at the end of a block

    # backprop something
    dz = a
    k = a * 2  # an inline comment
    very_long_name_number_one = very_long_name_number_two * very_long_name_number_three + very_long_name_number_four
    m = x[i,]
    return a, b
'''


def both_agree(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    fast = fmt.format_code

    def check(code: str, **kwargs: Any) -> str:
        expected = fmt.black_only(code, **kwargs)
        assert fast(code, **kwargs) == expected
        seen.append(code)
        return expected

    monkeypatch.setattr(fmt, "format_code", check)
    return seen


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("options", [{}, {"style": "split"}, {"line_length": 40}], ids=["fused", "split", "narrow"])
def test_generated_modules_format_as_black_formats_them(
    path: Path, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = both_agree(monkeypatch)
    try:
        source = path.read_text(encoding="utf-8").partition("# output\n")[0]
        codegen.generate(source, filename=path.name, **options)
    except codegen.CodegenError:
        pytest.skip("not generated with these options")
    assert seen


@pytest.mark.parametrize("line_length", [88, 30])
def test_lines_black_would_change_are_left_to_black(line_length: int) -> None:
    assert fmt.format_code(TRICKY, line_length=line_length) == fmt.black_only(TRICKY, line_length=line_length)


def test_simple_lines_are_set_aside() -> None:
    skeleton, runs, _ = fmt._set_aside(TRICKY.split("\n"), 88)
    assert len(skeleton) < len(TRICKY.split("\n"))
    assert ["    # forward pass", "    a = x * 2", "    b = a**2 + x", "    p = (1 - t**2) * dz + 1.5**2"] in runs
    assert runs[1] == ["    q = (a + b) * (c - d)"]  # `q = (a + b)` and `q = (a + b) * c, d` go to black
