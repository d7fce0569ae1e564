"""Hessian-vector products (forward mode over the generated backward) against
central differences of the generated gradient."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import upstream_for, upstream_kwargs
from tests.test_examples import ARGS, EXAMPLES
from tests.test_forward_mode import _direction, _moved

# Loops keep their values in lists the forward mode cannot yet follow.
WITH_LOOPS = {"loop_power", "rnn"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("stem", sorted(set(ARGS) - WITH_LOOPS), ids=str)
def test_hvp_matches_differences_of_the_gradient(stem: str) -> None:
    source = (EXAMPLES / f"{stem}.py").read_text()
    name, calls = ARGS[stem]
    forward: dict[str, Any] = {}
    exec(compile(source, "fwd.py", "exec"), forward)
    backward: dict[str, Any] = {}
    exec(compile(codegen.generate(source), "bwd", "exec"), backward)
    hvp_namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(source, mode="hvp"), "hvp", "exec"), hvp_namespace)
    grad_fn, hvp = backward[f"{name}_backward"], hvp_namespace[f"{name}_hvp"]
    params = list(inspect.signature(forward[name]).parameters)
    vector_params = [p for p in inspect.signature(hvp).parameters if p.endswith("_dot")]
    wrt = [p[: -len("_dot")] for p in vector_params]
    rng = np.random.default_rng(3)
    for args in calls[:2]:
        values = dict(zip(params, args))
        upstream = upstream_kwargs(forward[name], grad_fn, upstream_for(forward[name](*args), rng))
        vectors = {p: _direction(values[p], rng) for p in wrt}
        result = hvp(**values, **{f"{p}_dot": v for p, v in vectors.items()}, **upstream)
        result = result if len(wrt) > 1 else (result,)
        h = 1e-6
        plus = grad_fn(**{**values, **{p: _moved(values[p], vectors[p], h) for p in wrt}}, **upstream)
        minus = grad_fn(**{**values, **{p: _moved(values[p], vectors[p], -h) for p in wrt}}, **upstream)
        plus = plus if len(wrt) > 1 else (plus,)
        minus = minus if len(wrt) > 1 else (minus,)
        for got, a, b in zip(result, plus, minus):
            numeric = (np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) / (2 * h)
            np.testing.assert_allclose(np.asarray(got, dtype=float), numeric, rtol=1e-5, atol=1e-6)


def test_hvp_refuses_loops_clearly() -> None:
    with pytest.raises(codegen.CodegenError, match="cannot differentiate the generated backward again"):
        codegen.generate((EXAMPLES / "loop_power.py").read_text(), mode="hvp")


def test_cli_hvp_and_allow_generated(tmp_path: Any) -> None:
    import subprocess
    import sys

    source = tmp_path / "fwd.py"
    source.write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x * y)\n")
    run = subprocess.run([sys.executable, "-m", "codegen", "--hvp", "-o", "-", str(source)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "def f_hvp(x, y, x_dot, y_dot, dout=1.0):" in run.stdout
    subprocess.run([sys.executable, "-m", "codegen", str(source)], check=True, timeout=120)
    generated = tmp_path / "fwd_backward.py"
    run = subprocess.run([sys.executable, "-m", "codegen", "-o", "-", str(generated)], capture_output=True, text=True, timeout=120)
    assert "skipped" in run.stderr and run.stdout == ""
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "--allow-generated", "-o", "-", str(generated)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "def f_backward_backward(" in run.stdout
