"""The benchmark suite's workloads: every generated backward equals the hand-written one.

No timing here (`python -m benchmarks.suite` times them); small inputs, and the
training-sized ones the suite times, so a wrong gradient never reaches its table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from benchmarks.suite import WORKLOADS, Workload, as_arrays, cache_sizes, call_args, hand_fused, mismatch, statements
from benchmarks.suite import __main__ as runner


def test_the_suite_has_the_workloads_the_issue_lists() -> None:
    names = {wl.name for wl in WORKLOADS}
    wanted = {
        "affine", "relu", "leaky_relu", "batchnorm", "layernorm", "dropout", "softmax_loss", "svm_loss",
        "temporal_softmax", "word_embedding", "rnn", "lstm_step", "attention", "conv_naive",
        "max_pool_naive", "vae_loss", "notes_f", "notes_neuron",
    }
    assert wanted <= names
    assert {f"{name}:ann" for name in ("affine", "relu", "batchnorm", "layernorm")} <= names
    for wl in WORKLOADS:
        source = wl.source()
        assert "import math\n" in source and "import numpy as np\n" in source, wl.module


@pytest.mark.parametrize("wl", WORKLOADS, ids=lambda wl: wl.name)
def test_generated_gradients_equal_the_hand_written_ones(wl: Workload) -> None:
    assert mismatch(wl, small=True) is None
    assert mismatch(wl, small=False) is None


@pytest.mark.parametrize("wl", WORKLOADS, ids=lambda wl: wl.name)
def test_hand_written_gradients_match_finite_differences(wl: Workload) -> None:
    """The baseline itself is right: central differences on the small inputs."""
    args, upstream = wl.inputs(np.random.default_rng(1), True)
    _, hand_args = call_args(wl, args, upstream)
    grads = as_arrays(hand_fused(wl)(*hand_args), len(wl.wrt))
    forward = _forward(wl)
    names = list(forward.__code__.co_varnames[: forward.__code__.co_argcount])
    weights = upstream or [1.0]
    for name, grad in zip(wl.wrt, grads):
        i = names.index(name)
        base = np.asarray(args[i], dtype=float)
        numeric = np.zeros_like(base)
        for k in np.ndindex(base.shape):
            value = []
            for step in (1e-6, -1e-6):
                moved = base.copy()
                moved[k] += step
                new_args = list(args)
                new_args[i] = moved if isinstance(args[i], np.ndarray) else (moved.tolist() if base.ndim else float(moved))
                outputs = forward(*new_args)
                outputs = outputs if isinstance(outputs, tuple) else (outputs,)
                value.append(sum(np.sum(np.asarray(o) * w) for o, w in zip(outputs, weights)))
            numeric[k] = (value[0] - value[1]) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=f"d{name}")


def _forward(wl: Workload) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(wl.source(), str(wl.path), "exec"), namespace)
    return namespace[wl.function]


def test_statement_and_cache_counts_are_reported() -> None:
    wl = next(wl for wl in WORKLOADS if wl.name == "relu")
    assert statements(wl)[1] == 2
    assert cache_sizes(wl) == (1, 1)


def test_the_runner_checks_and_times_one_workload(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--only", "relu", "--repeats", "2", "--quick"]) == 0
    assert "relu" in capsys.readouterr().out


def test_the_notes_hand_written_backwards_have_one_owner() -> None:
    # The older benchmarks' `workloads/hand.py` writes the notes' scalar backwards; the
    # suite times those same functions, not a copy of them.
    from benchmarks.suite import hand as suite_hand
    from benchmarks.workloads import hand as notes_hand

    assert suite_hand.f_fused is notes_hand.f_backward
    assert suite_hand.neuron_fused is notes_hand.neuron_backward
    by_name = {wl.name: wl for wl in WORKLOADS}
    assert hand_fused(by_name["notes_f"]) is notes_hand.f_backward
