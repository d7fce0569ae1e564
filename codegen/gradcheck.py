"""Check a generated backward against central differences, for a user's tests."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from codegen.api import backward


class GradientMismatch(AssertionError):
    """The generated gradient disagrees with central differences."""


def _like(value: Any, rng: np.random.Generator) -> Any:
    """A random direction of the same kind and shape as `value`."""
    if isinstance(value, list):
        return [float(v) for v in rng.standard_normal(len(value))]
    if isinstance(value, np.ndarray):
        return rng.standard_normal(value.shape)
    return float(rng.standard_normal())


def _step(value: Any, direction: Any, h: float) -> Any:
    if isinstance(value, list):
        return [v + h * d for v, d in zip(value, direction)]
    return value + h * direction


def _dot(a: Any, b: Any) -> float:
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def gradcheck(
    fn: Callable[..., Any],
    *args: Any,
    rtol: float = 1e-6,
    step: float = 1e-6,
    directions: int = 3,
    seed: int = 0,
    **kwargs: Any,
) -> float:
    """Compare `codegen.backward(fn)` with central differences of `fn` along
    random directions (as autograd's and JAX's check_grads do) at `args`.

    Returns the worst relative error; raises `GradientMismatch` (an
    AssertionError, so it reads well in pytest) with a report when it exceeds
    `rtol`.
    """
    back = backward(fn)
    signature = inspect.signature(fn)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    rng = np.random.default_rng(seed)
    outputs = fn(**values)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    # A returned tuple (a layer's cache) is not differentiated: it takes no upstream.
    weights = [None if isinstance(o, tuple) else _like(np.asarray(o) if np.ndim(o) else float(o), rng) for o in outputs]

    def loss(changed: dict[str, Any]) -> float:
        result = fn(**changed)
        result = result if isinstance(result, tuple) else (result,)
        return sum(_dot(w, o) for w, o in zip(weights, result) if w is not None)

    grads = back(**values, **dict(zip(back.upstream, [w for w in weights if w is not None])))
    grads = grads if len(back.wrt) != 1 else (grads,)
    worst = 0.0
    lines: list[str] = []
    for k in range(directions):
        direction = {name: _like(values[name], rng) for name in back.wrt}
        analytic = sum(_dot(g, direction[name]) for name, g in zip(back.wrt, grads))
        plus = {**values, **{n: _step(values[n], direction[n], step) for n in back.wrt}}
        minus = {**values, **{n: _step(values[n], direction[n], -step) for n in back.wrt}}
        numeric = (loss(plus) - loss(minus)) / (2 * step)
        error = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-12)
        worst = max(worst, error)
        lines.append(f"  direction {k}: generated {analytic:.10g}, central differences {numeric:.10g}, relative error {error:.2e}")
    if worst > rtol:
        report = "\n".join(lines)
        raise GradientMismatch(
            f"the gradient of {fn.__name__} with respect to {', '.join(back.wrt)} disagrees with central differences "
            f"(worst relative error {worst:.2e} > {rtol:.0e}):\n{report}"
        )
    return worst
