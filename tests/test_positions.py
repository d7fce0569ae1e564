"""Node positions (for error messages) come from libcst's PositionProvider, run directly."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from codegen.parse import _positions

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", [ROOT / "examples" / "lstm_step.py", ROOT / "tests" / "cases" / "lists.py", ROOT / "codegen" / "normalize.py"], ids=lambda p: p.name)
def test_the_direct_positions_are_libcsts(path: Path) -> None:
    tree = cst.parse_module(path.read_text(encoding="utf-8"))
    expected = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    found = _positions(tree)
    assert len(found) == len(expected) and all(found[node] == expected[node] for node in expected)
