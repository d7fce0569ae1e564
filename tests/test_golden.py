"""Golden files: each case's generated output is checked in and compared byte for byte.

A case in tests/cases/NAME.py is the forward module, a line `# output`, then the
expected generated module. Its `# check: CALL` lines name forward calls whose
gradients are checked against central differences; an `# options: KEY=VALUE,
...` line passes options to `codegen.generate` (`# options: assert_shapes=True`).
Regenerate deliberately with `pytest --update-golden`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from codegen.emit.format import format_code
from tests.support import check_gradients, load

CASES = Path(__file__).parent / "cases"
SEPARATOR = "# output\n"


def case_files() -> list[Path]:
    return sorted(CASES.glob("*.py"))


def split_case(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    source, _, expected = text.partition(SEPARATOR)
    return source.rstrip("\n") + "\n", expected


def case_options(source: str) -> dict[str, Any]:
    """The keyword arguments of an `# options:` line, if the case has one."""
    line = re.search(r"^# options: (.+)$", source, flags=re.MULTILINE)
    return eval(f"dict({line.group(1)})") if line else {}


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_case(path: Path, update_golden: bool) -> None:
    source, expected = split_case(path)
    options = case_options(source)
    generated = codegen.generate(source, filename=path.name, **options)
    if update_golden:
        path.write_text(source + "\n" + SEPARATOR + generated, encoding="utf-8")
        expected = generated
    assert generated == expected
    assert format_code(generated) == generated, "black would change the output"
    calls = re.findall(r"^# check: (.+)$", source, flags=re.MULTILINE)
    assert calls, f"{path.name} needs a '# check: f(...)' line"
    forward, backward, _ = load(source, path.name, **options)
    for call in calls:
        name, _, rest = call.partition("(")
        args = eval(f"({rest[:-1]},)", {"np": np, "rng": np.random.default_rng(0)})
        check_gradients(forward[name], backward[f"{name}_backward"], list(args))


def test_annotated_affine_sums_the_bias_exactly() -> None:
    """With shapes annotated, broadcasting is undone exactly: no generic helper."""
    source = 'import numpy as np\n\n\ndef affine(x: "N D", w: "D M", b: "M"):\n    return x @ w + b\n'
    code = codegen.generate(source)
    assert "db = np.sum(dout, axis=0)" in code
    assert "_unbroadcast" not in code
    assert "dx = dout @ w.T" in code and "dw = x.T @ dout" in code
