"""Test helpers: compile generated code, check gradients by central differences,
call forward-mode code along random directions, and run random programs."""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import codegen

Array = Any


def load(source: str, filename: str = "fwd.py", **options: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Exec the forward source and its generated backward; return both namespaces and the code."""
    code = codegen.generate(source, filename=filename, **options)
    forward: dict[str, Any] = {"__name__": "forward"}
    exec(compile(source, filename, "exec"), forward)
    backward: dict[str, Any] = {"__name__": "backward"}
    exec(compile(code, f"{filename}_backward", "exec"), backward)
    return forward, backward, code


def gradient_names(backward_fn: Callable[..., Any]) -> list[str]:
    """The parameters a generated backward differentiates, read from its docstring."""
    doc = backward_fn.__doc__ or ""
    match = re.search(r"with\s+respect\s+to\s+([\w,\s]+)\.", doc)  # wrapped over lines, maybe
    return [n.strip() for n in match.group(1).split(",")] if match else []


def _flat_views(value: Any) -> list[tuple[Callable[[Any, float], Any], float]]:
    """For each scalar inside `value`: (a setter returning a changed copy, its value)."""
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if isinstance(item, (list, np.ndarray)):  # a list of arrays: each array's own
                for inner, x in _flat_views(item):
                    def replace(v: Any, x: float, i: int = i, inner: Callable[[Any, float], Any] = inner) -> Any:
                        c = list(v)
                        c[i] = inner(v[i], x)
                        return c

                    out.append((replace, x))
                continue

            def setter(v: Any, x: float, i: int = i) -> Any:
                c = list(v)
                c[i] = x
                return c

            out.append((setter, float(item)))
        return out
    if isinstance(value, np.ndarray):
        out = []
        for idx in np.ndindex(value.shape):
            def setter(v: Any, x: float, idx: tuple[int, ...] = idx) -> Any:
                c = np.array(v, dtype=float, copy=True)
                c[idx] = x
                return c

            out.append((setter, float(value[idx])))
        return out
    return [(lambda v, x: x, float(value))]


def _flatten(value: Any) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        return np.concatenate([_flatten(v) for v in value]) if value else np.zeros(0)
    return np.ravel(np.asarray(value, dtype=float))


def _weighted(outputs: Any, weights: Sequence[Any]) -> float:
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    return float(sum(np.sum(np.asarray(w) * np.asarray(o)) for w, o in zip(weights, outs) if w is not None))


def upstream_kwargs(forward_fn: Callable[..., Any], backward_fn: Callable[..., Any], weights: Sequence[Any]) -> dict[str, Any]:
    """The upstream gradients as keywords: they follow any defaulted forward parameters."""
    import inspect

    forward_params = set(inspect.signature(forward_fn).parameters)
    names = [p for p in inspect.signature(backward_fn).parameters if p not in forward_params]
    weights = [w for w in weights if w is not None]  # a returned cache takes no upstream
    assert len(names) == len(weights), (names, weights)
    return dict(zip(names, weights))


def upstream_for(outputs: Any, rng: np.random.Generator) -> list[Any]:
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    weights: list[Any] = []
    for o in outs:
        if isinstance(o, tuple):
            weights.append(None)  # a returned tuple (a layer's cache) is not differentiated
        elif np.ndim(o) == 0:
            weights.append(float(rng.uniform(0.5, 1.5)))
        else:
            weights.append(rng.uniform(0.5, 1.5, size=np.shape(o)))
    return weights


def check_gradients(
    forward_fn: Callable[..., Any],
    backward_fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    rtol: float = 1e-6,
    step: float = 1e-6,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare the generated gradients with central differences in float64.

    Returns the generated gradients by parameter name.
    """
    import inspect

    rng = np.random.default_rng(seed)
    params = list(inspect.signature(forward_fn).parameters)
    names = gradient_names(backward_fn)
    originals = copy.deepcopy(list(args))
    outputs = forward_fn(*args)
    weights = upstream_for(outputs, rng)
    grads = backward_fn(*args, **upstream_kwargs(forward_fn, backward_fn, weights))
    for original, arg in zip(originals, args):
        if isinstance(arg, (list, np.ndarray, float)):
            np.testing.assert_array_equal(_flatten(original), _flatten(arg), err_msg="the backward mutated an argument")
    if len(names) == 1:
        grads = (grads,)
    assert len(grads) == len(names), (names, grads)
    result = dict(zip(names, grads))
    for name, grad in result.items():
        index = params.index(name)
        value = args[index]
        kinds = {np.asarray(g).dtype.kind for g in (grad if isinstance(grad, list) else [grad])}
        assert kinds <= {"f", "c"}, f"d{name} holds {kinds} values: an int input's gradient is a float"
        if isinstance(value, list):
            assert isinstance(grad, list), f"d{name} should be a list"
        elif isinstance(value, np.ndarray):
            assert np.shape(grad) == value.shape, f"d{name} has shape {np.shape(grad)}, not {value.shape}"
        else:
            assert np.ndim(grad) == 0, f"d{name} should be a scalar"
        numeric = []
        for setter, x in _flat_views(value):
            h = step * max(1.0, abs(x))

            def at(v: float) -> float:
                changed = list(args)
                changed[index] = setter(value, v)
                return _weighted(forward_fn(*changed), weights)

            numeric.append((at(x + h) - at(x - h)) / (2 * h))
        analytic = _flatten(grad)
        expected = np.array(numeric)
        scale = np.maximum(np.abs(analytic) + np.abs(expected), 1e-2)
        error = np.max(np.abs(analytic - expected) / scale) if expected.size else 0.0
        assert error < rtol, f"d{name}: relative error {error:.2e}\n generated {analytic}\n numeric {expected}"
    return result


def autograd_namespace(source: str, filename: str = "fwd.py") -> dict[str, Any]:
    """Exec `source` with `math` and `numpy` imports answered by autograd's numpy."""
    import builtins
    import types

    import autograd.numpy as anp

    fake_math = types.SimpleNamespace(
        exp=anp.exp, log=lambda x, b=None: anp.log(x) if b is None else anp.log(x) / anp.log(b),
        log1p=anp.log1p, expm1=anp.expm1, log2=anp.log2, log10=anp.log10, sqrt=anp.sqrt,
        pow=anp.power, sin=anp.sin, cos=anp.cos, tan=anp.tan, asin=anp.arcsin, acos=anp.arccos,
        atan=anp.arctan, atan2=anp.arctan2, sinh=anp.sinh, cosh=anp.cosh, tanh=anp.tanh,
        asinh=anp.arcsinh, acosh=anp.arccosh, atanh=anp.arctanh, hypot=anp.hypot,
        fabs=anp.abs, pi=anp.pi, e=anp.e,
    )
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "math":
            return fake_math
        if name == "numpy":
            return anp
        return real_import(name, *args, **kwargs)

    namespace: dict[str, Any] = {
        "__name__": "autograd_forward",
        "__builtins__": {**vars(builtins), "__import__": fake_import},
    }
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def autograd_gradients(
    source: str, name: str, args: Sequence[Any], wrt: Sequence[str], weights: Sequence[Any]
) -> dict[str, Any]:
    """Gradients of sum(weights * outputs) by autograd, for the parameters in `wrt`."""
    import inspect

    from autograd import grad

    fn = autograd_namespace(source)[name]
    params = list(inspect.signature(fn).parameters)

    def weighted(*a: Any) -> Any:
        outs = fn(*a)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = 0.0
        for w, o in zip(weights, outs):
            total = total + (w * o).sum() if np.ndim(w) else total + w * o
        return total

    return {p: grad(weighted, params.index(p))(*args) for p in wrt}


# ---- forward mode: calls along random directions -----------------------------------------
def tangent_parameters(fn: Callable[..., Any]) -> list[str]:
    """The parameters an `f_jvp` or `f_hvp` takes a tangent for (`x` for `x_dot`)."""
    return [p.removesuffix("_dot") for p in inspect.signature(fn).parameters if p.endswith("_dot")]


def _direction(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, list):
        return [float(v) for v in rng.standard_normal(len(value))]
    if isinstance(value, np.ndarray):
        return rng.standard_normal(value.shape)
    return float(rng.standard_normal())


def _moved(value: Any, direction: Any, h: float) -> Any:
    if isinstance(value, list):
        return [v + h * d for v, d in zip(value, direction)]
    return value + h * direction


@dataclass(frozen=True)
class Directions:
    """A call's arguments by name, and a random direction for some of them."""

    values: dict[str, Any]
    directions: dict[str, Any]

    @classmethod
    def draw(cls, params: Sequence[str], args: Sequence[Any], wrt: Sequence[str], rng: np.random.Generator) -> Directions:
        values = dict(zip(params, args))
        return cls(values, {p: _direction(values[p], rng) for p in wrt})

    def tangents(self) -> dict[str, Any]:
        """The directions as the keywords forward mode takes them (`x_dot=...`)."""
        return {f"{p}_dot": d for p, d in self.directions.items()}

    def moved(self, h: float) -> dict[str, Any]:
        """The arguments moved by `h` along the directions."""
        return {**self.values, **{p: _moved(self.values[p], d, h) for p, d in self.directions.items()}}


# ---- random programs -------------------------------------------------------------------
# The runs are derandomized (same programs on every run and machine) unless
# CODEGEN_LONG_FUZZ is set; CODEGEN_FUZZ_EXAMPLES chooses the number of programs.
LONG = os.environ.get("CODEGEN_LONG_FUZZ", "") not in ("", "0")
EXAMPLES = int(os.environ.get("CODEGEN_FUZZ_EXAMPLES", "20000" if LONG else "1000"))

Program = TypeVar("Program")


def run_random_programs(
    programs: Callable[[], st.SearchStrategy[Program]],
    check_program: Callable[[Program, st.DataObject, Counter[str]], None],
) -> Counter[str]:
    """Check every program `programs()` draws; `check_program` counts what it did in
    its last argument ("checked", or "refused: <message>"), which is returned."""
    stats: Counter[str] = Counter()

    # Derandomized, hypothesis seeds from the source of `run` (its decorators too,
    # comments not) and its signature: they are those the random tests each had
    # inline, names included, so each keeps its programs.
    @settings(
        max_examples=EXAMPLES,
        derandomize=not LONG,
        database=None,
        deadline=None,
        print_blob=True,
        # Shrinking a failing program takes minutes (each run differentiates one);
        # CI reports the program as found. The long run shrinks.
        phases=tuple(Phase) if LONG else (Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(programs(), st.data())
    def run(program: Program, data: st.DataObject) -> None:
        check_program(program, data, stats)

    run()
    refused = sum(n for key, n in stats.items() if key.startswith("refused"))
    # The generators write the supported language (SPEC §1), so refusals should be
    # rare; a flood of them means the property tests nothing.
    assert stats["checked"] >= 4 * max(refused, 1), stats.most_common()
    return stats


def count_constructs(stats: Counter[str], source: str, constructs: dict[str, str], other_styles: bool) -> None:
    """Count a checked program under each construct (a regular expression) its source
    uses, and under "split" too when it was also checked in split style."""
    for name, pattern in constructs.items():
        if re.search(pattern, source):
            stats[f"construct: {name}"] += 1
            stats[f"construct split: {name}"] += other_styles


def assert_constructs_checked(stats: Counter[str], constructs: dict[str, str], least: int) -> None:
    """Each construct is in at least `least` checked programs, and the constructs are
    checked in split style too, about once each on the whole: which programs also get
    the other styles moves between a single-file and a whole-suite run (vstack's six
    programs once had none), so no one construct is held to a split check."""
    for name in constructs:
        count = stats[f"construct: {name}"]
        assert count >= least, f"the random programs check {name!r} {count} times"
    split = sum(stats[f"construct split: {name}"] for name in constructs)
    assert split >= len(constructs), f"the random programs check the constructs {split} times in split style"


def bug(reason: str) -> Any:
    """A known core bug (see /work/bugs-reliability.md); the test flips when it is fixed."""
    return pytest.mark.xfail(strict=True, reason=f"bug: {reason}")


# ---- other styles and modes, checked against the fused backward ---------------------


def assert_same_values(got: Sequence[Any], want: Sequence[Any], what: str) -> None:
    """The generated values are the forward's, item by item inside a returned tuple (a cache)."""
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        if isinstance(w, tuple):
            assert isinstance(g, tuple), what
            assert_same_values(g, w, what)
        elif isinstance(w, dict):
            assert g is w or g == w, what
        else:
            np.testing.assert_allclose(_flatten(g), _flatten(w), rtol=1e-12, atol=1e-12, err_msg=what)


def as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def _as_is(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def seeded(fn: Callable[..., Any], seed: int = 0) -> Callable[..., Any]:
    """`fn` with numpy's and Python's random generators seeded before every call: a
    program that draws random numbers draws the same ones on every call, so its
    forward, its central differences and a fused backward (which runs the forward
    again) all see the same values."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        np.random.seed(seed)
        random.seed(seed)
        return fn(*args, **kwargs)

    return call


def generate_and_run(source: str, **options: Any) -> dict[str, Any] | None:
    """Exec the module `generate` writes with these options; None if it refuses cleanly."""
    try:
        code = codegen.generate(source, filename="fwd.py", **options)
    except codegen.CodegenError as exc:
        assert exc.line >= 1 and exc.column >= 1
        return None
    with contextlib.suppress(InvalidArgument):  # outside a hypothesis test there is no one to tell
        note(code)
    namespace: dict[str, Any] = {}
    exec(compile(code, f"fwd_{'_'.join(map(str, options.values()))}.py", "exec"), namespace)  # noqa: S102
    return namespace


def fused_gradients(forward_fn: Callable[..., Any], backward_fn: Callable[..., Any], args: list[Any],
                    weights: list[Any]) -> tuple[Any, ...]:  # fmt: skip
    return as_tuple(backward_fn(*args, **upstream_kwargs(forward_fn, backward_fn, weights)))


def check_split_style(source: str, name: str, forward_fn: Callable[..., Any], backward_fn: Callable[..., Any],
                      args: list[Any], wrap: Wrap = _as_is, **options: Any) -> None:  # fmt: skip
    """`name_forward` gives the forward's values and a cache; `name_backward(upstream,
    cache)` gives the fused backward's gradients. `wrap` wraps each generated function
    as `forward_fn` and `backward_fn` are (`seeded`, for programs that draw);
    `options`: more of `generate`'s."""
    namespace = generate_and_run(source, style="split", **options)
    if namespace is None:
        return
    outputs = as_tuple(forward_fn(*args))
    weights = upstream_for(outputs, np.random.default_rng(1))
    *values, cache = wrap(namespace[f"{name}_forward"])(*args)
    assert_same_values(values, outputs, "split forward value")
    gradients = as_tuple(namespace[f"{name}_backward"](*(w for w in weights if w is not None), cache))
    for got, want in zip(gradients, fused_gradients(forward_fn, backward_fn, args, weights), strict=True):
        np.testing.assert_allclose(_flatten(got), _flatten(want), rtol=1e-9, atol=1e-12, err_msg="split backward")


def check_forward_mode(source: str, name: str, forward_fn: Callable[..., Any], backward_fn: Callable[..., Any],
                       args: list[Any], wrap: Wrap = _as_is, **options: Any) -> None:  # fmt: skip
    """`name_jvp` gives the forward's values, and tangents that agree with the fused
    backward: <w, J t> == <J^T w, t> for random tangents t and upstream w."""
    namespace = generate_and_run(source, mode="forward", **options)
    if namespace is None:
        return
    params = list(inspect.signature(forward_fn).parameters)
    names = gradient_names(backward_fn)
    rng = np.random.default_rng(2)
    tangents = {p: _tangent(args[params.index(p)], rng) for p in names}
    jvp = wrap(namespace[f"{name}_jvp"])
    passed = params[: len(args)]  # the rest keep their defaults
    keywords = {
        p: args[params.index(p)] if p in passed else tangents[p.removesuffix("_dot")]
        for p in inspect.signature(jvp).parameters
        if p in passed or p.removesuffix("_dot") in tangents
    }
    outputs = as_tuple(forward_fn(*args))
    values, dots = jvp(**keywords)
    if len(outputs) == 1:
        values, dots = (values,), (dots,)
    assert_same_values(values, outputs, "forward-mode value")
    weights = upstream_for(outputs, rng)
    gradients = fused_gradients(forward_fn, backward_fn, args, weights)
    jt = sum(float(np.sum(np.asarray(w) * d)) for w, d in zip(weights, dots, strict=True) if w is not None)
    vjp = sum(float(_flatten(g) @ _flatten(tangents[p])) for p, g in zip(names, gradients, strict=True))
    assert abs(jt - vjp) <= 1e-9 * max(1.0, abs(vjp)), f"forward mode {jt} != reverse mode {vjp}"


def _tangent(value: Any, rng: np.random.Generator) -> Any:
    """A random tangent of `value`'s shape: a list of them for a list of arrays."""
    if isinstance(value, list) and any(isinstance(item, (list, np.ndarray)) for item in value):
        return [_tangent(item, rng) for item in value]
    return rng.uniform(-1, 1, np.shape(value))


def backward_body(code: str, name: str) -> str:
    """The text of `name_backward` in generated `code`, up to the next function."""
    start = code.index(f"def {name}_backward(")
    end = code.find("\ndef ", start + 1)
    return code[start : end if end != -1 else len(code)]


def check_every_style(source: str, name: str, args: Sequence[Any], *others: dict[str, Any]) -> None:
    """`name` of the module `source` called with `args`: the fused backward checked
    against central differences, the split pair against it, forward mode against
    reverse mode; `others`: more options `generate` must take (`{"mode": "hvp"}`)."""
    forward, backward, code = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}, *others):
        codegen.generate(source, **options)  # the checks below skip a refusal
    try:
        check_gradients(forward[name], backward[f"{name}_backward"], list(args))
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- generated\n{code}") from None
    check_split_style(source, name, forward[name], backward[f"{name}_backward"], list(args))
    check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], list(args))


def refusal(source: str) -> str:
    """The message of the clean refusal of `source` (a CodegenError with a position)."""
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, filename="fwd.py")
    assert info.value.line >= 1 and info.value.column >= 1
    return str(info.value)
