"""Forward mode on every row of the rule table: each case of tests/test_rules.py,
its JVP compared with central differences along random directions.

A row forward mode cannot differentiate must say so with a clean CodegenError
(listed in REFUSED with the reason); anything else is a bug.
"""

from __future__ import annotations

import pytest

from codegen import CodegenError, pipeline
from tests.test_forward_mode import check_jvp
from tests.test_rules import CASES, Case, newer_than_python

# Rows forward mode refuses, with why: a case reaching one must raise CodegenError.
REFUSED: dict[str, str] = {}


@pytest.fixture(autouse=True)
def unformatted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip black: the rule cases test derivatives, and black dominates their run time."""
    monkeypatch.setattr(pipeline.fmt, "format_code", lambda code, **options: code)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("c", [pytest.param(c, id=c.id, marks=newer_than_python(c)) for c in CASES])
def test_rule_jvp(c: Case) -> None:
    if c.rule in REFUSED:
        with pytest.raises(CodegenError):
            check_jvp(c.source, "f", [tuple(c.arguments())])
        return
    try:
        check_jvp(c.source, "f", [tuple(c.arguments())])
    except CodegenError:
        if c.may_refuse:
            return
        raise
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- forward\n{c.source}") from None


def test_refused_rows_exist() -> None:
    known = {c.rule for c in CASES}
    assert set(REFUSED) <= known, sorted(set(REFUSED) - known)
