"""A benchmark suite that looks like users' code: `python -m benchmarks.suite`.

Forward modules (`layers.py`, `layers_annotated.py`, `losses.py`, `sequence.py`,
`conv.py`, `notes.py`) are what users hand to codegen: several functions per
module, `import math` and `import numpy as np`, unannotated (but for
`layers_annotated.py`). `hand.py` holds the hand-written forward/backward pairs.
This module says which function of which module is a workload, builds its inputs,
generates its backward with the library API and compares it with the hand-written
one; `__main__.py` times them.
"""

from __future__ import annotations

import os
import sys

if "numpy" not in sys.modules:  # one BLAS thread for the timings: read when numpy loads
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_variable] = "1"

import ast  # noqa: E402
import inspect  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import codegen  # noqa: E402

from . import hand  # noqa: E402

HERE = Path(__file__).resolve().parent
RTOL, ATOL = 1e-6, 1e-9

Inputs = tuple[list[Any], list[Any]]  # the forward's positional arguments, the upstream gradients


@dataclass(frozen=True)
class Workload:
    """One forward function and its hand-written backward.

    `inputs(rng, small)` gives the forward's arguments and one upstream gradient
    per output (none for a scalar loss: the backward's default 1.0); `small` is
    for the unit test, training-sized otherwise. `hand` names the pair
    `hand.<hand>_forward` / `hand.<hand>_backward`.
    """

    name: str
    module: str
    function: str
    wrt: tuple[str, ...]
    inputs: Callable[[np.random.Generator, bool], Inputs]
    hand: str

    @property
    def path(self) -> Path:
        return HERE / f"{self.module}.py"

    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _pick(small: bool, big: tuple[int, ...], little: tuple[int, ...]) -> tuple[int, ...]:
    return little if small else big


def _affine(rng: np.random.Generator, small: bool) -> Inputs:
    N, D, M = _pick(small, (128, 512, 256), (4, 5, 3))
    x, w, b = rng.standard_normal((N, D)), rng.standard_normal((D, M)) / np.sqrt(D), rng.standard_normal(M)
    return [x, w, b], [rng.standard_normal((N, M))]


def _elementwise(rng: np.random.Generator, small: bool) -> Inputs:
    N, D = _pick(small, (128, 1024), (4, 5))
    return [rng.standard_normal((N, D))], [rng.standard_normal((N, D))]


def _leaky(rng: np.random.Generator, small: bool) -> Inputs:
    (x,), (dout,) = _elementwise(rng, small)
    return [x, 0.01], [dout]


def _norm(rng: np.random.Generator, small: bool) -> Inputs:
    N, D = _pick(small, (128, 512), (4, 5))
    x = rng.standard_normal((N, D)) * 2 + 1
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    return [x, gamma, beta, 1e-5], [rng.standard_normal((N, D))]


def _dropout(rng: np.random.Generator, small: bool) -> Inputs:
    (x,), (dout,) = _elementwise(rng, small)
    p = 0.5
    mask = (rng.random(x.shape) < p).astype(float)
    return [x, mask, p], [dout]


def _attention(rng: np.random.Generator, small: bool) -> Inputs:
    L, S, E = _pick(small, (128, 128, 64), (3, 4, 5))
    q, k, v = rng.standard_normal((L, E)), rng.standard_normal((S, E)), rng.standard_normal((S, E))
    return [q, k, v], [rng.standard_normal((L, E))]


def _classes(rng: np.random.Generator, small: bool) -> Inputs:
    N, C = _pick(small, (128, 100), (4, 5))
    return [rng.standard_normal((N, C)), rng.integers(0, C, size=N)], []


def _temporal(rng: np.random.Generator, small: bool) -> Inputs:
    N, T, V = _pick(small, (32, 16, 500), (3, 4, 5))
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.8
    return [x, y, mask], []


def _vae(rng: np.random.Generator, small: bool) -> Inputs:
    N, D, Z = _pick(small, (128, 784, 20), (4, 5, 3))
    x = rng.random((N, D))
    x_rec = rng.uniform(0.01, 0.99, (N, D))
    return [x, x_rec, rng.standard_normal((N, Z)), rng.standard_normal((N, Z)) * 0.5], []


def _embedding(rng: np.random.Generator, small: bool) -> Inputs:
    N, T, V, D = _pick(small, (32, 16, 1000, 128), (2, 3, 4, 5))
    x = rng.integers(0, V, size=(N, T))
    return [x, rng.standard_normal((V, D))], [rng.standard_normal((N, T, D))]


def _rnn(rng: np.random.Generator, small: bool) -> Inputs:
    N, T, D, H = _pick(small, (32, 20, 64, 128), (2, 3, 4, 5))
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H)
    return [x, h0, Wx, Wh, rng.standard_normal(H) * 0.1], [rng.standard_normal((N, T, H))]


def _lstm(rng: np.random.Generator, small: bool) -> Inputs:
    N, D, H = _pick(small, (64, 128, 128), (3, 4, 5))
    x, prev_h, prev_c = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))
    Wx, Wh = rng.standard_normal((D, 4 * H)) / np.sqrt(D), rng.standard_normal((H, 4 * H)) / np.sqrt(H)
    b = rng.standard_normal(4 * H) * 0.1
    return [x, prev_h, prev_c, Wx, Wh, b], [rng.standard_normal((N, H)), rng.standard_normal((N, H))]


def _conv(rng: np.random.Generator, small: bool) -> Inputs:
    N, C, H, F = _pick(small, (8, 3, 16, 16), (2, 2, 4, 3))
    x, w = rng.standard_normal((N, C, H, H)), rng.standard_normal((F, C, 3, 3))
    return [x, w, rng.standard_normal(F), 1, 1], [rng.standard_normal((N, F, H, H))]


def _pool(rng: np.random.Generator, small: bool) -> Inputs:
    N, C, H = _pick(small, (16, 16, 16), (2, 2, 4))
    x = rng.standard_normal((N, C, H, H))  # distinct values: one maximum per window
    return [x, 2, 2, 2], [rng.standard_normal((N, C, H // 2, H // 2))]


def _notes_f(rng: np.random.Generator, small: bool) -> Inputs:
    return [3, -4], []


def _notes_neuron(rng: np.random.Generator, small: bool) -> Inputs:
    return [[2, -3, -3], [-1, -2]], []


def _layer(name: str, module: str, function: str, wrt: tuple[str, ...], inputs: Any) -> Workload:
    return Workload(name, module, function, wrt, inputs, function.removesuffix("_forward"))


_LAYERS = [
    ("affine", "affine_forward", ("x", "w", "b"), _affine),
    ("relu", "relu_forward", ("x",), _elementwise),
    ("leaky_relu", "leaky_relu_forward", ("x",), _leaky),
    ("batchnorm", "batchnorm_forward", ("x", "gamma", "beta"), _norm),
    ("layernorm", "layernorm_forward", ("x", "gamma", "beta"), _norm),
    ("dropout", "dropout_forward", ("x",), _dropout),
    ("attention", "attention_forward", ("q", "k", "v"), _attention),
]

WORKLOADS: list[Workload] = [
    *(_layer(name, "layers", fn, wrt, inputs) for name, fn, wrt, inputs in _LAYERS),
    *(_layer(f"{name}:ann", "layers_annotated", fn, wrt, inputs) for name, fn, wrt, inputs in _LAYERS),
    Workload("softmax_loss", "losses", "softmax_loss", ("x",), _classes, "softmax_loss"),
    Workload("svm_loss", "losses", "svm_loss", ("x",), _classes, "svm_loss"),
    Workload("temporal_softmax", "losses", "temporal_softmax_loss", ("x",), _temporal, "temporal_softmax_loss"),
    Workload("vae_loss", "losses", "vae_loss", ("x_rec", "mu", "logvar"), _vae, "vae_loss"),
    Workload("word_embedding", "sequence", "word_embedding_forward", ("W",), _embedding, "word_embedding"),
    Workload("rnn", "sequence", "rnn_forward", ("x", "h0", "Wx", "Wh", "b"), _rnn, "rnn"),
    Workload("lstm_step", "sequence", "lstm_step_forward", ("x", "prev_h", "prev_c", "Wx", "Wh", "b"), _lstm, "lstm_step"),
    Workload("conv_naive", "conv", "conv_forward_naive", ("x", "w", "b"), _conv, "conv_naive"),
    Workload("max_pool_naive", "conv", "max_pool_forward_naive", ("x",), _pool, "max_pool_naive"),
    Workload("notes_f", "notes", "f", ("x", "y"), _notes_f, "f"),
    Workload("notes_neuron", "notes", "neuron", ("w", "x"), _notes_neuron, "neuron"),
]


# ---- generated code ------------------------------------------------------------------


@cache
def generated(module: str, style: str) -> tuple[str, dict[str, Any]]:
    """The generated module (text and namespace) for a forward module, in one style."""
    code = codegen.generate((HERE / f"{module}.py").read_text(encoding="utf-8"), filename=f"{module}.py", style=style)
    namespace: dict[str, Any] = {"__name__": f"{module}_backward"}
    exec(compile(code, f"<generated {module}.py ({style})>", "exec"), namespace)
    return code, namespace


def generated_for(wl: Workload, style: str) -> tuple[str, dict[str, Any]]:
    """As `generated`, with the gradients `wl.wrt` only (the module's other functions too)."""
    return _generated_wrt(wl.module, wl.function, wl.wrt, style)


@cache
def _generated_wrt(module: str, function: str, wrt: tuple[str, ...], style: str) -> tuple[str, dict[str, Any]]:
    source = (HERE / f"{module}.py").read_text(encoding="utf-8")
    code = codegen.generate(source, filename=f"{module}.py", functions=[function], wrt=list(wrt), style=style)
    namespace: dict[str, Any] = {"__name__": f"{module}_backward"}
    exec(compile(code, f"<generated {module}.py ({style})>", "exec"), namespace)
    return code, namespace


def generated_fused(wl: Workload) -> Callable[..., Any]:
    return generated_for(wl, "fused")[1][f"{wl.function}_backward"]


def hand_fused(wl: Workload) -> Callable[..., Any]:
    """The hand-written forward followed by its backward, as one call."""
    whole = getattr(hand, f"{wl.hand}_fused", None)
    if whole is not None:
        return whole
    forward, backward = getattr(hand, f"{wl.hand}_forward"), getattr(hand, f"{wl.hand}_backward")
    n_out = _outputs(wl)

    def fused(*args: Any) -> Any:
        given, upstream = args[: len(args) - n_out], args[len(args) - n_out :]
        *_, saved = forward(*given)
        return backward(*upstream, saved)

    return fused


def _outputs(wl: Workload) -> int:
    args, upstream = wl.inputs(np.random.default_rng(0), True)
    return max(len(upstream), 1)


def call_args(wl: Workload, args: list[Any], upstream: list[Any]) -> tuple[list[Any], list[Any]]:
    """The arguments of the generated fused backward, and of `hand_fused`'s (an explicit 1.0
    for a scalar loss, whose generated backward defaults it)."""
    if getattr(hand, f"{wl.hand}_fused", None) is not None:
        return [*args, *upstream], [*args, *upstream]
    return [*args, *upstream], [*args, *(upstream or [1.0])]


def as_arrays(result: Any, n: int) -> list[np.ndarray]:
    items = [result] if n == 1 else list(result)
    return [np.asarray(item, dtype=float) for item in items]


def mismatch(wl: Workload, small: bool) -> str | None:
    """Where the generated gradients differ from the hand-written ones (None: nowhere)."""
    args, upstream = wl.inputs(np.random.default_rng(0), small)
    gen_args, hand_args = call_args(wl, args, upstream)
    want = as_arrays(hand_fused(wl)(*hand_args), len(wl.wrt))
    got = as_arrays(generated_fused(wl)(*gen_args), len(wl.wrt))
    for name, w, g in zip(wl.wrt, want, got):
        if w.shape != g.shape:
            return f"d{name}: shape {g.shape}, hand-written {w.shape}"
        if not np.allclose(g, w, rtol=RTOL, atol=ATOL):
            return f"d{name}: max abs difference {np.max(np.abs(g - w)):.3g}"
    return None


# ---- sizes -----------------------------------------------------------------------------


def _body(tree: ast.Module, name: str) -> list[ast.stmt]:
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def backprop_statements(source: str, name: str) -> int:
    """Statements of a split-style backward (nested ones counted), the cache's unpacking not."""
    body = _body(ast.parse(source), name)
    if body and isinstance(body[0], ast.Assign) and ast.unparse(body[0].value) == "cache":
        body = body[1:]
    return sum(1 for statement in body for node in ast.walk(statement) if isinstance(node, ast.stmt))


def statements(wl: Workload) -> tuple[int, int]:
    """Backprop statements: generated (split style's backward) and hand-written."""
    code, _ = generated_for(wl, "split")
    ours = backprop_statements(code, f"{wl.function}_backward")
    theirs = backprop_statements(inspect.getsource(hand), f"{wl.hand}_backward")
    return ours, theirs


def cache_sizes(wl: Workload) -> tuple[int, int]:
    """Values in the split style's cache: generated and hand-written."""
    args, _ = wl.inputs(np.random.default_rng(0), True)
    ours = generated_for(wl, "split")[1][f"{wl.function}_forward"](*args)[-1]
    theirs = getattr(hand, f"{wl.hand}_forward")(*args)[-1]
    return _count(ours), _count(theirs)


def _count(saved: Any) -> int:
    return len(saved) if isinstance(saved, tuple) else 1
