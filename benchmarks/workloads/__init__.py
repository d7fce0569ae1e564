"""The benchmark workloads: a forward source file, its inputs, and a hand-written backward.

Each forward lives in its own module here (`staged_f.py`, `neuron.py`, ...),
exactly what a user would hand to codegen; `hand.py` holds the hand-written
backward passes; `torch_forward.py` the PyTorch spellings of the forwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import hand

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Workload:
    """One benchmark case.

    `make_inputs(rng)` returns the forward's positional arguments and the
    upstream gradients, one per output (empty for a scalar loss, which uses
    the backward's default of 1.0).  `wrt` names the parameters whose
    gradients are compared and timed; it is passed to codegen as `wrt=` too,
    so every implementation returns the same gradients in the same order.
    """

    name: str
    title: str
    file: str
    function: str
    wrt: tuple[str, ...]
    make_inputs: Callable[[np.random.Generator], tuple[list[Any], list[Any]]]
    hand: Callable[..., Any]
    scalar: bool  # all-scalar code (math on floats): the "faster than the frameworks" target

    @property
    def path(self) -> Path:
        return HERE / self.file

    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _staged_f(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    return [3.0, -4.0], []


def _neuron(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    return [[2.0, -3.0, -3.0], [-1.0, -2.0]], []


def _matmul(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    W = rng.random((5, 10))
    X = rng.random((10, 3))
    dD = rng.random((5, 3))
    return [W, X], [dD]


def _two_layer(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    N, D, H, C = 64, 784, 100, 10
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    W1 = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
    b1 = rng.standard_normal(H) * 0.01
    W2 = rng.standard_normal((H, C)) * np.sqrt(2.0 / H)
    b2 = rng.standard_normal(C) * 0.01
    return [X, y, W1, b1, W2, b2], []


def _lstm(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    N, D, H = 64, 128, 128
    x = rng.standard_normal((N, D))
    prev_h = rng.standard_normal((N, H))
    prev_c = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, 4 * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, 4 * H)) / np.sqrt(H)
    b = rng.standard_normal(4 * H) * 0.1
    dnext_h = rng.standard_normal((N, H))
    dnext_c = rng.standard_normal((N, H))
    return [x, prev_h, prev_c, Wx, Wh, b], [dnext_h, dnext_c]


def _notes_f(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    return [3, -4], []


def _notes_neuron(rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    return [[2, -3, -3], [-1, -2]], []


WORKLOADS: list[Workload] = [
    Workload(
        name="staged_f",
        title="notes' f(x, y) at x=3, y=-4",
        file="staged_f.py",
        function="f",
        wrt=("x", "y"),
        make_inputs=_staged_f,
        hand=hand.f_backward,
        scalar=True,
    ),
    Workload(
        name="neuron",
        title="sigmoid neuron, lists w=[2,-3,-3], x=[-1,-2]",
        file="neuron.py",
        function="neuron",
        wrt=("w", "x"),
        make_inputs=_neuron,
        hand=hand.neuron_backward,
        scalar=True,
    ),
    Workload(
        name="notes_f",
        title="f(x, y) in the notes' module (math and numpy), ints x=3, y=-4",
        file="notes_module.py",
        function="f",
        wrt=("x", "y"),
        make_inputs=_notes_f,
        hand=hand.f_backward,
        scalar=True,
    ),
    Workload(
        name="notes_neuron",
        title="neuron in the notes' module, unannotated, int lists",
        file="notes_module.py",
        function="neuron",
        wrt=("w", "x"),
        make_inputs=_notes_neuron,
        hand=hand.neuron_backward,
        scalar=True,
    ),
    Workload(
        name="matmul",
        title="D = W.dot(X), W 5x10, X 10x3",
        file="matmul.py",
        function="matmul",
        wrt=("W", "X"),
        make_inputs=_matmul,
        hand=hand.matmul_backward,
        scalar=False,
    ),
    Workload(
        name="two_layer",
        title="two-layer net softmax loss, batch 64, 784-100-10",
        file="two_layer.py",
        function="two_layer_loss",
        wrt=("W1", "b1", "W2", "b2"),
        make_inputs=_two_layer,
        hand=hand.two_layer_loss_backward,
        scalar=False,
    ),
    Workload(
        name="lstm",
        title="LSTM step, batch 64, 128 in, 128 hidden",
        file="lstm.py",
        function="lstm_step",
        wrt=("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
        make_inputs=_lstm,
        hand=hand.lstm_step_backward,
        scalar=False,
    ),
]
