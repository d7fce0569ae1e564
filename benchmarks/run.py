"""Benchmark codegen: how fast is the generated backward, and how fast is generating it?

    python benchmarks/run.py [--quick] [--only NAME ...] [--show-code] [--stages]

Part 1 (runtime) times, in one process and interleaved, for each workload in
`benchmarks/workloads/`: the forward alone, the generated backward, the
hand-written backward, and -- where installed -- autograd, JAX (jit) and
PyTorch.  Gradients are checked against the hand-written ones first; a
workload codegen cannot generate yet is skipped with the reason.

Part 2 (generation) times `codegen.generate` on synthetic straight-line
scalar functions of 500 to 8000 statements, and black's share of it.

See benchmarks/README.md for what the numbers mean and how noisy they are.
"""

from __future__ import annotations

import argparse
import ast
import ctypes
import gc
import importlib.metadata
import inspect
import math
import os
import platform
import statistics
import sys
import textwrap
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.append(str(ROOT))

from workloads import WORKLOADS, Workload  # noqa: E402
from workloads import hand as hand_module  # noqa: E402

import codegen  # noqa: E402
import codegen.emit.format  # noqa: E402

RTOL, ATOL = 1e-6, 1e-9
GEN_SIZES = (500, 1000, 2000, 4000, 8000)
QUICK_GEN_MAX = 2000


# --------------------------------------------------------------------------- #
# Optional frameworks: imported only if installed; a failure is a message.
# --------------------------------------------------------------------------- #


def _try_import(name: str) -> tuple[ModuleType | None, str]:
    try:
        if name == "autograd":
            import autograd
            import autograd.numpy  # noqa: F401

            return autograd, importlib.metadata.version("autograd")
        if name == "jax":
            import jax

            # float64, like numpy and the others
            jax.config.update("jax_enable_x64", True)
            import jax.numpy  # noqa: F401

            return jax, jax.__version__
        if name == "torch":
            import torch

            return torch, torch.__version__
    except ModuleNotFoundError:
        return None, "not installed"
    except Exception as exc:  # installed but broken: say so and go on
        return None, f"not available ({type(exc).__name__}: {exc})"
    raise ValueError(name)


# --------------------------------------------------------------------------- #
# Loading forward sources, for numpy and for the numpy-like frameworks.
# --------------------------------------------------------------------------- #


class _DotToFunction(ast.NodeTransformer):
    """`a.dot(b)` -> `np.dot(a, b)`: autograd's ArrayBox has no `.dot` method."""

    def __init__(self, np_name: str) -> None:
        self.np_name = np_name

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "dot"
            and len(node.args) == 1
        ):
            is_module = (
                isinstance(func.value, ast.Name) and func.value.id == self.np_name
            )
            if not is_module:
                target = ast.Attribute(
                    ast.Name(self.np_name, ast.Load()), "dot", ast.Load()
                )
                return ast.copy_location(
                    ast.Call(target, [func.value, *node.args], []), node
                )
        return node


def load_forward(
    wl: Workload, backend: ModuleType | None = None, *, dot_to_function: bool = False
) -> Callable[..., Any]:
    """The workload's forward function, executed from its source file.

    With `backend` (autograd.numpy or jax.numpy), the source's own `import
    numpy` / `import math` lines are dropped and those names bound to the
    backend instead, so the framework differentiates the very same code.
    """
    tree = ast.parse(wl.source(), filename=str(wl.path))
    namespace: dict[str, Any] = {"__name__": f"workloads.{wl.path.stem}"}
    if backend is not None:
        body: list[ast.stmt] = []
        np_name = "np"
        for node in tree.body:
            if isinstance(node, ast.Import) and all(
                a.name in ("math", "numpy") for a in node.names
            ):
                for alias in node.names:
                    namespace[alias.asname or alias.name] = backend
                    if alias.name == "numpy":
                        np_name = alias.asname or alias.name
                continue
            if isinstance(node, ast.ImportFrom) and node.module in ("math", "numpy"):
                for alias in node.names:
                    namespace[alias.asname or alias.name] = getattr(backend, alias.name)
                continue
            body.append(node)
        tree.body = body
        if dot_to_function:
            namespace.setdefault(np_name, backend)
            tree = ast.fix_missing_locations(_DotToFunction(np_name).visit(tree))
    exec(compile(tree, str(wl.path), "exec"), namespace)
    return namespace[wl.function]


def param_names(wl: Workload) -> list[str]:
    tree = ast.parse(wl.source())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == wl.function:
            return [a.arg for a in node.args.args]
    raise LookupError(wl.function)


def count_statements(code: str, function: str) -> int:
    """Statements in `function`'s body (nested ones included, docstring excluded).

    A body that only returns (part of) another function's result, like
    `return two_layer_loss_and_grads(...)[1]`, counts that function instead.
    """
    tree = ast.parse(textwrap.dedent(code))
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    if function not in functions:
        raise LookupError(function)
    body = functions[function].body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
    ):
        body = body[1:]
    if len(body) == 1 and isinstance(body[0], ast.Return):
        value = body[0].value
        call = value.value if isinstance(value, ast.Subscript) else value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
            if call.func.id in functions and call.func.id != function:
                return count_statements(code, call.func.id)
    return sum(1 for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.stmt))


# --------------------------------------------------------------------------- #
# Gradients as flat lists of float64 arrays, for comparison.
# --------------------------------------------------------------------------- #


def as_grads(result: Any, n: int) -> list[np.ndarray]:
    """The backward's return value (a tuple, or a bare value when n == 1) as arrays."""
    items = [result] if n == 1 else list(result)
    if len(items) != n:
        raise ValueError(f"expected {n} gradients, got {len(items)}")
    return [np.asarray(_to_numpy(g), dtype=np.float64) for g in items]


def _to_numpy(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_to_numpy(v) for v in value]
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def compare(
    reference: list[np.ndarray], other: list[np.ndarray], names: Sequence[str]
) -> str | None:
    """None when they agree; otherwise a one-line description of the first difference."""
    if len(reference) != len(other):
        return f"{len(other)} gradients, expected {len(reference)}"
    for name, ref, got in zip(names, reference, other):
        if ref.shape != got.shape:
            return f"d{name}: shape {got.shape}, expected {ref.shape}"
        if not np.allclose(got, ref, rtol=RTOL, atol=ATOL):
            err = np.max(np.abs(got - ref) / (np.abs(ref) + ATOL))
            return f"d{name}: max relative error {err:.2e}"
    return None


# --------------------------------------------------------------------------- #
# Candidates: zero-argument callables computing the same gradients.
# --------------------------------------------------------------------------- #


@dataclass
class Candidate:
    label: str
    call: Callable[[], Any]  # one fused forward + backward (or just the forward)
    grads: Callable[[Any], list[np.ndarray]] | None  # None for the forward alone
    times: list[float] = field(default_factory=list)  # seconds per call, one per repeat
    number: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median."""
        if len(self.times) < 4:
            return (max(self.times) - min(self.times)) / self.median
        q = statistics.quantiles(self.times, n=4)
        return (q[2] - q[0]) / self.median


def autograd_candidate(
    wl: Workload, args: list[Any], upstream: list[Any], argnums: tuple[int, ...]
) -> Candidate:
    autograd, _ = FRAMEWORKS["autograd"]
    import autograd.numpy as anp

    fwd = load_forward(wl, anp, dot_to_function=True)
    n = len(argnums)
    if not upstream:
        grad = autograd.grad(fwd, argnum=argnums)
        call = partial(grad, *args)
    else:
        if len(upstream) > 1:
            # A plain tuple of boxes is not traced: autograd needs its own tuple.
            from autograd.builtins import tuple as boxed_tuple

            several = fwd

            def fwd(*a: Any) -> Any:
                return boxed_tuple(several(*a))

        make_vjp = autograd.make_vjp(fwd, argnum=argnums)
        cotangent = upstream[0] if len(upstream) == 1 else tuple(upstream)

        def call() -> Any:
            vjp, _ = make_vjp(*args)
            return vjp(cotangent)

    return Candidate(
        "autograd", call, lambda r: as_grads(r, n) if n > 1 else as_grads(r[0], 1)
    )


def jax_candidate(
    wl: Workload, args: list[Any], upstream: list[Any], argnums: tuple[int, ...]
) -> Candidate:
    jax, _ = FRAMEWORKS["jax"]
    import jax.numpy as jnp

    fwd = load_forward(wl, jnp)

    def device(value: Any) -> Any:
        if isinstance(value, list):
            return [device(v) for v in value]
        return jnp.asarray(value)

    jargs = [device(a) for a in args]
    jup = [device(u) for u in upstream]
    n = len(argnums)
    if not upstream:
        fn = jax.jit(jax.grad(fwd, argnums=argnums))
        call_args = jargs
    else:

        def vjp_of(*all_args: Any) -> Any:
            primal, ups = list(all_args[: len(args)]), all_args[len(args) :]

            def of_diff(*diff: Any) -> Any:
                full = list(primal)
                for i, value in zip(argnums, diff):
                    full[i] = value
                return fwd(*full)

            _, pullback = jax.vjp(of_diff, *[primal[i] for i in argnums])
            return pullback(ups[0] if len(ups) == 1 else tuple(ups))

        fn = jax.jit(vjp_of)
        call_args = jargs + jup

    def call() -> Any:
        return jax.block_until_ready(fn(*call_args))

    return Candidate(
        "jax (jit)", call, lambda r: as_grads(r, n) if n > 1 else as_grads(r[0], 1)
    )


def torch_candidate(
    wl: Workload, args: list[Any], upstream: list[Any], argnums: tuple[int, ...]
) -> Candidate:
    torch, _ = FRAMEWORKS["torch"]
    import workloads.torch_forward as tf

    fwd = getattr(tf, wl.function)

    def tensor(value: Any, requires_grad: bool) -> Any:
        if isinstance(value, list):
            return [tensor(v, requires_grad) for v in value]
        arr = np.asarray(value)
        if arr.dtype.kind in "iu":
            return torch.from_numpy(arr.astype(np.int64))
        t = torch.tensor(arr, dtype=torch.float64)
        return t.requires_grad_(requires_grad)

    targs = [tensor(a, i in argnums) for i, a in enumerate(args)]
    tup = [tensor(u, False) for u in upstream]
    leaves: list[Any] = []
    shape: list[int | None] = []  # None for a tensor argument, else the list length
    for i in argnums:
        if isinstance(targs[i], list):
            leaves.extend(targs[i])
            shape.append(len(targs[i]))
        else:
            leaves.append(targs[i])
            shape.append(None)

    def call() -> Any:
        out = fwd(*targs)
        outs = out if isinstance(out, tuple) else (out,)
        return torch.autograd.grad(outs, leaves, grad_outputs=tup or None)

    def regroup(flat: Any) -> list[np.ndarray]:
        grouped, k = [], 0
        for length in shape:
            if length is None:
                grouped.append(flat[k])
                k += 1
            else:
                grouped.append(list(flat[k : k + length]))
                k += length
        return as_grads(tuple(grouped), len(grouped))

    return Candidate("pytorch", call, regroup)


FRAMEWORK_CANDIDATES = {
    "autograd": autograd_candidate,
    "jax": jax_candidate,
    "torch": torch_candidate,
}
FRAMEWORKS: dict[str, tuple[ModuleType | None, str]] = {}


# --------------------------------------------------------------------------- #
# Timing.
# --------------------------------------------------------------------------- #


def calibrate(fn: Callable[[], Any], target: float, clock: Callable[[], float]) -> int:
    """Calls per repeat so that one repeat takes about `target` seconds (cf. timeit.autorange)."""
    timer = timeit.Timer(fn, timer=clock)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target / 5 or number >= 1 << 24:
            break
        number *= 10
    return max(1, round(number * target / elapsed)) if elapsed > 0 else number


def time_interleaved(
    candidates: list[Candidate], repeats: int, target: float, clock: Callable[[], float]
) -> None:
    """Median-of-repeats timing, the candidates taking turns so drift hits them alike."""
    for cand in candidates:
        cand.number = calibrate(cand.call, target, clock)
        cand.times = []
    timers = [timeit.Timer(c.call, timer=clock) for c in candidates]
    for r in range(repeats):
        order = list(range(len(candidates)))
        shift = r % len(order)
        order = order[shift:] + order[:shift]  # rotate who goes first
        for k in order:
            cand = candidates[k]
            cand.times.append(timers[k].timeit(cand.number) / cand.number)


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:7.2f} {unit}"
    return f"{seconds / 1e-9:7.2f} ns"


# --------------------------------------------------------------------------- #
# Part 1: runtime.
# --------------------------------------------------------------------------- #


@dataclass
class RuntimeResult:
    workload: Workload
    skipped: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def get(self, label: str) -> Candidate | None:
        return next((c for c in self.candidates if c.label == label), None)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_workload(
    wl: Workload,
    repeats: int,
    target: float,
    clock: Callable[[], float],
    show_code: bool,
) -> RuntimeResult:
    result = RuntimeResult(wl)
    names = param_names(wl)
    argnums = tuple(names.index(n) for n in wl.wrt)
    args, upstream = wl.make_inputs(np.random.default_rng(0))
    n = len(wl.wrt)

    # The generated backward.
    try:
        code = codegen.generate(
            wl.source(), filename=wl.file, functions=[wl.function], wrt=list(wl.wrt)
        )
    except codegen.CodegenError as exc:
        result.skipped = f"codegen error: {first_line(exc)}"
        return result
    except (
        Exception
    ) as exc:  # a crash inside codegen is a bug worth reporting, not a stop
        result.skipped = f"codegen crashed: {type(exc).__name__}: {first_line(exc)}"
        return result
    if show_code:
        print(textwrap.indent(code, "    | "))
    namespace: dict[str, Any] = {"__name__": f"{wl.path.stem}_backward"}
    try:
        exec(compile(code, f"<generated {wl.file}>", "exec"), namespace)
        generated = namespace[f"{wl.function}_backward"]
    except Exception as exc:
        result.skipped = (
            f"generated code does not load: {type(exc).__name__}: {first_line(exc)}"
        )
        return result

    forward = load_forward(wl)
    gen_call = partial(generated, *args, *upstream)
    hand_call = partial(wl.hand, *args, *upstream)
    reference = as_grads(hand_call(), n)
    try:
        got = as_grads(gen_call(), n)
    except Exception as exc:
        result.skipped = (
            f"generated backward fails: {type(exc).__name__}: {first_line(exc)}"
        )
        return result
    problem = compare(reference, got, wl.wrt)
    if problem:
        result.skipped = f"generated gradient is WRONG ({problem}); not timed"
        return result

    result.notes.append(
        f"statements: generated {count_statements(code, f'{wl.function}_backward')},"
        f" hand-written {count_statements(inspect.getsource(inspect.getmodule(wl.hand)), wl.hand.__name__)}"
    )
    cands = [
        Candidate("forward", partial(forward, *args), None),
        Candidate("hand-written", hand_call, lambda r: as_grads(r, n)),
        Candidate("generated", gen_call, lambda r: as_grads(r, n)),
    ]
    for fw, make in FRAMEWORK_CANDIDATES.items():
        if FRAMEWORKS[fw][0] is None:
            continue
        try:
            cand = make(wl, args, upstream, argnums)
            # The first call also compiles JAX's function, before any timing.
            problem = compare(reference, cand.grads(cand.call()), wl.wrt)
        except Exception as exc:
            result.notes.append(
                f"{fw}: skipped: {type(exc).__name__}: {first_line(exc)}"
            )
            continue
        if problem:
            result.notes.append(
                f"{fw}: skipped: gradient disagrees with hand-written ({problem})"
            )
            continue
        cands.append(cand)
    time_interleaved(cands, repeats, target, clock)
    result.candidates = cands
    return result


def print_runtime(results: list[RuntimeResult]) -> None:
    print()
    header = (
        f"{'workload':<11} {'implementation':<14} {'median/call':>12} {'IQR':>6}"
        f" {'min/call':>11} {'x hand':>9} {'x fwd':>7}"
    )
    print(header)
    print("-" * len(header))
    for res in results:
        wl = res.workload
        if res.skipped:
            print(f"{wl.name:<11} skipped: {res.skipped}")
            print("-" * len(header))
            continue
        hand = res.get("hand-written")
        fwd = res.get("forward")
        assert hand and fwd
        for i, cand in enumerate(res.candidates):
            name = wl.name if i == 0 else ""
            ratio_hand = (
                "" if cand.label == "forward" else f"{cand.median / hand.median:8.2f}x"
            )
            ratio_fwd = (
                "" if cand.label == "forward" else f"{cand.median / fwd.median:6.1f}x"
            )
            print(
                f"{name:<11} {cand.label:<14} {fmt_time(cand.median):>12}"
                f" {cand.spread * 100:5.0f}% {fmt_time(cand.best):>11} {ratio_hand:>9} {ratio_fwd:>7}"
            )
        for note in res.notes:
            print(f"{'':<11} {note}")
        print("-" * len(header))


def print_runtime_summary(results: list[RuntimeResult]) -> None:
    timed = [r for r in results if not r.skipped]
    print()
    if not timed:
        print("No workload could be timed.")
        return
    for stat in ("median", "best"):
        ratios = {
            r.workload.name: getattr(r.get("generated"), stat)
            / getattr(r.get("hand-written"), stat)
            for r in timed
        }
        geomean = math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios))
        listed = ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
        what = "medians" if stat == "median" else "minimums (cross-check)"
        print(
            f"generated / hand-written, geomean over {len(ratios)} workloads, {what}:"
            f" {geomean:.3f}x  ({listed})"
        )
    print("  target: <= 1.05x")
    skipped = [r.workload.name for r in results if r.skipped]
    if skipped:
        print(f"  not in the geomean (skipped): {', '.join(skipped)}")
    for res in timed:
        if res.workload.name == "two_layer":
            fwd = res.get("forward").median  # type: ignore[union-attr]
            gen = res.get("generated").median  # type: ignore[union-attr]
            hand = res.get("hand-written").median  # type: ignore[union-attr]
            print(
                f"two-layer net, fused backward / forward alone: generated {gen / fwd:.2f}x,"
                f" hand-written {hand / fwd:.2f}x  (target: generated <= 3x)"
            )
    scalar = [r for r in timed if r.workload.scalar]
    for res in scalar:
        gen = res.get("generated").median  # type: ignore[union-attr]
        others = [
            c
            for c in res.candidates
            if c.label not in ("forward", "hand-written", "generated")
        ]
        if others:
            vs = ", ".join(f"{c.label} {c.median / gen:.1f}x" for c in others)
            verdict = (
                "faster than all"
                if all(c.median > gen for c in others)
                else "NOT faster than all"
            )
            print(
                f"{res.workload.name}: framework time / generated time: {vs}  ({verdict}; target: faster)"
            )


# --------------------------------------------------------------------------- #
# Part 1b: a training step (the loss, then its gradients).
# --------------------------------------------------------------------------- #


def _generated_module(wl: Workload, **options: Any) -> dict[str, Any]:
    code = codegen.generate(
        wl.source(),
        filename=wl.file,
        functions=[wl.function],
        wrt=list(wl.wrt),
        **options,
    )
    namespace: dict[str, Any] = {"__name__": f"{wl.path.stem}_backward"}
    exec(compile(code, f"<generated {wl.file}>", "exec"), namespace)
    return namespace


def run_training_step(
    wl: Workload, repeats: int, target: float, clock: Callable[[], float]
) -> list[Candidate]:
    """Split style (forward for the loss and cache, then backward) and fused
    --return-value, against a hand-written function returning loss and gradients."""
    args, _ = wl.make_inputs(np.random.default_rng(0))
    n = len(wl.wrt)
    split = _generated_module(wl, style="split")
    forward = split[f"{wl.function}_forward"]
    backward = split[f"{wl.function}_backward"]
    fused = _generated_module(wl, return_value=True)[f"{wl.function}_backward"]

    def split_step() -> tuple[Any, Any]:
        loss, cache = forward(*args)
        return loss, backward(1.0, cache)

    hand = getattr(hand_module, f"{wl.function}_and_grads")
    cands = [
        Candidate("hand-written", partial(hand, *args), lambda r: as_grads(r[1], n)),
        Candidate("split", split_step, lambda r: as_grads(r[1], n)),
        Candidate("fused+value", partial(fused, *args), lambda r: as_grads(r[1], n)),
    ]
    reference = cands[0].call()
    for cand in cands[1:]:
        got = cand.call()
        problem = compare(cand.grads(reference), cand.grads(got), wl.wrt)
        if problem or not math.isclose(
            float(got[0]), float(reference[0]), rel_tol=1e-9
        ):
            raise AssertionError(f"{cand.label}: {problem or 'loss differs'}")
    time_interleaved(cands, repeats, target, clock)
    return cands


def print_training_step(wl: Workload, cands: list[Candidate]) -> None:
    hand = cands[0]
    print(f"\nTraining step ({wl.title}): loss and gradients")
    for cand in cands:
        print(
            f"  {cand.label:<14} {fmt_time(cand.median):>12} {cand.spread * 100:5.0f}%"
            f" {cand.median / hand.median:8.2f}x hand-written"
        )
    print("  target: split <= 1.05x")


# --------------------------------------------------------------------------- #
# Part 2: generation time.
# --------------------------------------------------------------------------- #


def synthetic_source(n: int) -> str:
    """A straight-line scalar function of `n` assignments.

    Rolling chains: statement i reads the previous value and one two or three
    back (so every value fans out to two later statements), and the shared
    parameters b and c fan out to many.
    """
    templates = (
        "a{i} = math.sin(a{p1}) * b + a{p3}",
        "a{i} = math.cos(a{p1}) * c - a{p2}",
        "a{i} = a{p1} * a{p3} + math.tanh(a{p2})",
        "a{i} = math.exp(-a{p1} * a{p1}) + b * a{p2}",
    )
    lines = ["import math", "", "", "def synthetic(a0, a1, a2, b, c):"]
    for i in range(3, n + 3):
        lines.append(
            "    "
            + templates[i % len(templates)].format(i=i, p1=i - 1, p2=i - 2, p3=i - 3)
        )
    lines.append(f"    return a{n + 2}")
    return "\n".join(lines) + "\n"


@dataclass
class GenResult:
    size: int
    total: float = 0.0  # seconds on the chosen clock
    black: float = 0.0  # the part of total spent in black
    wall: float = 0.0  # total on the wall clock, whatever the chosen clock
    lines: int = 0
    error: str | None = None
    stages: list[tuple[str, float]] = field(default_factory=list)

    @property
    def ours(self) -> float:
        return self.total - self.black


def time_generation(n: int, clock: Callable[[], float], stages: bool) -> GenResult:
    """Time `codegen.generate` on `synthetic_source(n)`, and black's part of it.

    Black's part is measured by wrapping `codegen.emit.format.format_code` for the
    duration of the run, so one run gives both numbers.
    """
    res = GenResult(n)
    source = synthetic_source(n)
    black_times: list[float] = []
    original = codegen.emit.format.format_code

    def timed_format(code: str, **kwargs: Any) -> str:
        t0 = clock()
        try:
            return original(code, **kwargs)
        finally:
            black_times.append(clock() - t0)

    gc.collect()
    codegen.emit.format.format_code = timed_format  # type: ignore[assignment]
    try:
        t0, w0 = clock(), time.perf_counter()
        out = codegen.generate(source, filename=f"synthetic{n}.py")
        res.total, res.wall = clock() - t0, time.perf_counter() - w0
    except codegen.CodegenError as exc:
        res.error = f"codegen error: {first_line(exc)}"
        return res
    except Exception as exc:
        res.error = f"codegen crashed: {type(exc).__name__}: {first_line(exc)}"
        return res
    finally:
        codegen.emit.format.format_code = original  # type: ignore[assignment]
    if black_times:
        res.black = sum(black_times)
    else:
        # codegen no longer calls format_code through that name: time black
        # separately on the unformatted text of the differentiated function.
        dumps: list[str] = []

        def keep(stage: str, code: str) -> None:
            if stage.startswith("differentiate"):
                dumps.append(code)

        codegen.generate(source, dump_stages=keep)
        t0 = clock()
        codegen.emit.format.format_code("import math\n\n\n" + "\n\n\n".join(dumps))
        res.black = clock() - t0
    res.lines = out.count("\n")
    compile(out, f"<generated synthetic{n}>", "exec")  # at least valid Python

    if stages:
        # A second run, stamping the clock at each stage dump. Each stamp closes
        # the interval since the previous one: "normalise" covers parse, validate
        # and normalise, "format" covers emitting the module and black.
        stamps: list[tuple[str, float]] = []

        def stamp(stage: str, code: str) -> None:
            stamps.append((stage.split()[0], clock()))

        gc.collect()
        previous = clock()
        codegen.generate(source, dump_stages=stamp)
        for stage, at in stamps:
            res.stages.append((stage, at - previous))
            previous = at
    return res


def run_generation(
    sizes: Sequence[int], budget: float, clock_name: str, stages: bool, repeats: int = 3
) -> None:
    clock = time.perf_counter if clock_name == "wall" else time.process_time
    print()
    print(
        f"Generation time: codegen.generate on synthetic straight-line scalar functions, {clock_name} clock,"
        f" best of {repeats} runs"
    )
    header = (
        f"{'statements':>10} {'out lines':>10} {'total':>9} {'ours':>9} {'black':>9}"
        f" {'black %':>8}   {'x per doubling: total':>21} {'ours':>6} {'black':>6}"
    )
    print(header)
    print("-" * len(header))
    # Warm up: black's grammar and our own imports (the rule table) load on first
    # use; that one-off cost should not land on the smallest size.
    codegen.generate(synthetic_source(20))
    previous: GenResult | None = None
    results: list[GenResult] = []
    for n in sizes:
        # The fastest of a few runs: a single one of a second or two swings by 10-20%
        # on a shared machine, which is all of the margin a ratio per doubling has.
        runs = [time_generation(n, clock, stages and i == 0) for i in range(repeats)]
        errors = [r for r in runs if r.error]
        res = errors[0] if errors else min(runs, key=lambda r: r.total)
        res.stages = runs[0].stages
        if res.error:
            print(f"{n:>10} skipped: {res.error}")
            break
        growth = ""
        if previous is not None and previous.size * 2 == n:
            growth = (
                f" {res.total / previous.total:21.2f} {res.ours / previous.ours:6.2f}"
                f" {res.black / previous.black:6.2f}"
            )
        print(
            f"{n:>10} {res.lines:>10} {res.total:8.2f}s {res.ours:8.2f}s {res.black:8.2f}s"
            f" {res.black / res.total * 100:7.0f}%  {growth}"
        )
        if clock_name != "wall":
            print(f"{'':>10} (wall clock {res.wall:.2f}s)")
        if res.stages:
            times = ", ".join(f"{name} {t:.2f}s" for name, t in res.stages)
            print(f"{'':>10} stages (extra run): {times}")
        sys.stdout.flush()
        results.append(res)
        previous = res
        if res.wall > budget and n != sizes[-1]:
            print(
                f"{'':>10} stopping: {res.wall:.0f}s is over the {budget:.0f}s"
                " budget per size (--gen-budget)"
            )
            break
    print("  ours = total - black")
    print("  targets: <= 2.2x per doubling; 4000 statements < 12 s total, ours < 4 s")


# --------------------------------------------------------------------------- #
# Main.
# --------------------------------------------------------------------------- #


def codegen_revision() -> str:
    """The checkout's commit, and whether codegen/ has uncommitted changes, if in git."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "codegen"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" at {head}" + (" + uncommitted changes in codegen/" if dirty else "")


def keep_freed_memory() -> str:
    """Tell glibc's malloc to keep freed memory instead of returning it to the OS.

    By default, a freed array above the mmap threshold (128 kB, raised on the
    fly up to the largest freed) goes back to the kernel, and the next array
    of that size costs a page fault per 4 kB. How many of those a call pays
    depends on what ran before it (the heap's state), not only on its own
    code: the same LSTM backward measured 1.0x and 1.2x the hand-written one
    in two processes. With the thresholds raised, every implementation reuses
    its memory and the comparison is of the computation. `--malloc default`
    leaves the allocator alone.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "not glibc: allocator left alone"
    m_trim_threshold, m_mmap_threshold = -1, -3
    if mallopt(m_mmap_threshold, 16 << 20) and mallopt(m_trim_threshold, 64 << 20):
        return "glibc keeps freed memory (mmap threshold 16 MB, trim threshold 64 MB)"
    return "mallopt failed: allocator left alone"


def describe_machine() -> None:
    print(
        f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs"
    )
    env = ", ".join(
        f"{k}={os.environ[k]}"
        for k in (
            "OPENBLAS_CORETYPE",
            "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
        if k in os.environ
    )
    print(
        f"numpy {np.__version__}; codegen {codegen.__version__}{codegen_revision()}"
        + (f"; {env}" if env else "")
    )
    for fw in FRAMEWORK_CANDIDATES:
        module, version = FRAMEWORKS[fw]
        extra = ""
        if fw == "torch" and module is not None:
            extra = f" ({module.get_num_threads()} threads)"
        print(f"  {fw}: {version}" if module is None else f"  {fw} {version}{extra}")
    cores = os.cpu_count() or 1
    if cores <= 4 and not {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"} & set(os.environ):
        print(
            f"  note: numpy's BLAS (and PyTorch) will use {cores} threads each on {cores} cores;"
            " on a busy machine that can inflate the array timings many times over."
            " For steadier numbers: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
            " python benchmarks/run.py --clock cpu"
        )


def main(argv: Sequence[str] | None = None) -> int:
    names = [w.name for w in WORKLOADS]
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats; generation sizes up to 2000",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this part (repeatable): {', '.join(names)}, runtime (all of those),"
        " training, generation",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="timing repeats per implementation (default 31, quick 11)",
    )
    parser.add_argument(
        "--sizes", help="generation sizes, comma-separated (default 500,...,8000)"
    )
    parser.add_argument(
        "--gen-budget",
        type=float,
        default=120.0,
        help="skip larger generation sizes once one takes longer (s)",
    )
    parser.add_argument(
        "--gen-repeats",
        type=int,
        default=3,
        help="generation: runs per size, the fastest reported (default 3)",
    )
    parser.add_argument(
        "--show-code", action="store_true", help="print each generated backward"
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="generation: also time each pipeline stage (an extra run)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall clock (default) or process CPU time, steadier on a busy machine"
        " (for the runtime part, only meaningful when BLAS and torch run single-threaded)",
    )
    parser.add_argument(
        "--no-frameworks", action="store_true", help="skip autograd, JAX and PyTorch"
    )
    parser.add_argument(
        "--malloc",
        choices=("keep", "default"),
        default="keep",
        help="keep (default): glibc keeps freed memory, so page faults do not swamp"
        " the comparison; default: leave the allocator as it is",
    )
    opts = parser.parse_args(argv)

    only = set(opts.only or [])
    unknown = only - set(names) - {"runtime", "training", "generation"}
    if unknown:
        parser.error(
            f"unknown --only {', '.join(sorted(unknown))}"
            f" (choose from {', '.join(names)}, runtime, training, generation)"
        )
    selected = [w for w in WORKLOADS if not only or "runtime" in only or w.name in only]
    if only and "runtime" not in only and not (only & set(names)):
        selected = []
    do_generation = not only or "generation" in only
    do_training = not only or "training" in only

    for fw in FRAMEWORK_CANDIDATES:
        FRAMEWORKS[fw] = (
            (None, "skipped (--no-frameworks)")
            if opts.no_frameworks
            else _try_import(fw)
        )
    describe_machine()
    allocator = (
        keep_freed_memory()
        if opts.malloc == "keep"
        else "allocator left alone (--malloc default)"
    )
    print(f"  malloc: {allocator}")

    # Many short repeats: on a busy machine a short repeat is more often left
    # alone by the scheduler, so the median (and the minimum) stay meaningful.
    clock = time.perf_counter if opts.clock == "wall" else time.process_time
    repeats = opts.repeats or (11 if opts.quick else 31)
    target = 0.002 if opts.quick else 0.005
    if selected:
        print(
            f"\nRuntime: median of {repeats} interleaved repeats of ~{target * 1000:.0f} ms each,"
            f" {opts.clock} clock"
        )
        results = []
        for wl in selected:
            print(f"  {wl.name}: {wl.title} ...", flush=True)
            results.append(run_workload(wl, repeats, target, clock, opts.show_code))
        print_runtime(results)
        print_runtime_summary(results)

    if do_training:
        two_layer = next(w for w in WORKLOADS if w.name == "two_layer")
        print_training_step(
            two_layer, run_training_step(two_layer, repeats, target, clock)
        )

    if do_generation:
        if opts.sizes:
            sizes = [int(s) for s in opts.sizes.split(",")]
        else:
            sizes = [s for s in GEN_SIZES if not opts.quick or s <= QUICK_GEN_MAX]
        run_generation(sizes, opts.gen_budget, opts.clock, opts.stages, opts.gen_repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
