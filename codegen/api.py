"""The library entry points: `generate` for source text, `backward` for live functions."""

from __future__ import annotations

import ast
import gc
import sys
import io
import tokenize
from dataclasses import dataclass, replace
from collections.abc import Callable, Sequence
from typing import Any

from codegen import emit, format as fmt, helpers, ir, kinds, live, parse, shadowing, typed, validate
from codegen.differentiate import Backward, differentiate, useful_variables
from codegen.forward_mode import ForwardMode
from codegen.header import body, header, is_generated, seal
from codegen.errors import CodegenError, Collector, NoForwardFunctions, Problem
from codegen.normalize import normalise
from codegen.naming import identifiers
from codegen.options import Options
from codegen.wrap import wrap

# The name a live function's assembled module is built under: never a module name,
# so the output imports nothing from it (the names it needs are the function's own).
LIVE_FILENAME = "<live function>"

StageDump = Callable[[str, str], None]


@dataclass(frozen=True)
class Generated:
    """A generated module and, per function, what its backward takes and returns."""

    code: str
    wrt: dict[str, tuple[str, ...]]  # function -> differentiated parameters
    upstream: dict[str, tuple[str, ...]]  # function -> upstream gradient parameters


def generate(
    source: str,
    *,
    filename: str = "<string>",
    functions: Sequence[str] | None = None,
    wrt: Sequence[str] | None = None,
    line_length: int = 88,
    target_versions: Sequence[str] = (),
    style: str = "fused",
    return_value: bool = False,
    mode: str = "reverse",
    allow_generated: bool = False,
    assert_shapes: bool = False,
    dump_stages: StageDump | None = None,
    src: Sequence[str] = (),
) -> str:
    """Return the generated backward module for the forward module `source`.

    `src` are the directories holding the project's own modules (ruff's `src`),
    for the grouping of imports; without them only the input's own module is.
    Raises `CodegenError` (with `filename`, `line`, `column` and every problem
    found) when the input cannot be differentiated.
    """
    options = Options(
        tuple(functions) if functions is not None else None,
        tuple(wrt) if wrt else None,
        line_length,
        tuple(target_versions),
        style,
        return_value,
        mode,
        allow_generated,
        assert_shapes,
        src=tuple(src),
    )
    _refuse_what_python_cannot_compile(source, filename)
    collecting = gc.isenabled()
    # The trees are acyclic; collections grow with them (and with the objects
    # compiling the output creates) and would cost a fifth of the run.
    gc.disable()
    try:
        code = _build_deeply_nested(source, filename, options, dump_stages)
        try:
            compile(code, filename, "exec")  # at the caller's recursion limit: what users will run
        except (SyntaxError, RecursionError, MemoryError) as exc:
            message = f"codegen produced output Python cannot compile ({exc!r}); please report it"
            raise RuntimeError(message) from None
    finally:
        if collecting:
            gc.enable()
    return code


def _build_deeply_nested(source: str, filename: str, options: Options, dump_stages: StageDump | None) -> str:
    """`build(...).code` at a recursion limit for long sums and deep nesting, which
    the stages walk recursively."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return build(source, filename, options, dump_stages).code
    except RecursionError:
        problem = Problem(filename, 1, 1, "expression too deeply nested to differentiate")
        raise CodegenError([problem]) from None
    finally:
        sys.setrecursionlimit(limit)


def _refuse_what_python_cannot_compile(source: str, filename: str) -> None:
    """An input CPython cannot compile (a sum of thousands of terms) is refused at once,
    at its deepest statement, rather than turned into an output that fails the same way."""
    try:
        compile(source, filename, "exec")
    except (RecursionError, MemoryError):
        pass
    except SyntaxError as exc:
        try:
            ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # reported with its position by the parser stage
        # Parsed but not compiled: more than 20 nested loops, say. At the statement.
        collector = Collector(filename, source)
        line = exc.lineno or 1
        text = collector.lines[line - 1] if 0 < line <= len(collector.lines) else ""
        raise collector.error(line, len(text) - len(text.lstrip()), f"Python cannot compile this: {exc.msg}")
    except ValueError:  # null bytes, before Python 3.11.4
        return  # reported with its position by the parser stage
    else:
        return
    line, column = _deepest_statement(source)
    problem = Problem(filename, line, column, "expression too deeply nested for Python to compile")
    raise CodegenError([problem]) from None


def _deepest_statement(source: str) -> tuple[int, int]:
    """The 1-based position of the statement with the deepest expression tree, walked
    without recursion; the longest statement when even parsing fails on it (Python
    3.13's parser gives up where its compiler does); (1, 1) on a syntax error."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 1, 1
    except (RecursionError, MemoryError):
        return _longest_statement(source)
    finally:
        sys.setrecursionlimit(limit)
    best, where = -1, (1, 1)
    stack: list[tuple[ast.AST, int, ast.stmt | None]] = [(tree, 0, None)]
    while stack:
        node, depth, statement = stack.pop()
        if isinstance(node, ast.stmt):
            statement, depth = node, 0
        elif statement is not None and depth > best:
            best, where = depth, (statement.lineno, statement.col_offset + 1)
        stack.extend((child, depth + 1, statement) for child in ast.iter_child_nodes(node))
    return where


def _longest_statement(source: str) -> tuple[int, int]:
    """The 1-based position of the logical line with the most tokens."""
    best, where = -1, (1, 1)
    count, start = 0, (1, 1)
    skipped = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if count > best:
                    best, where = count, start
                count = 0
            elif token.type not in skipped:
                if count == 0:
                    start = (token.start[0], token.start[1] + 1)
                count += 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return where


@dataclass(frozen=True)
class InnerPass:
    """What forward mode over a generated backward (mode "hvp-inner") needs to know:
    per backward, the parameters its Hessian-vector product takes a vector for
    (those of its gradients), and the user's module, for its hand-written rules;
    per backward, its upstream gradient parameters (they stay after the vectors)."""

    vectors: dict[str, tuple[str, ...]]
    user: parse.ModuleInfo
    upstream: dict[str, tuple[str, ...]]


def build(
    source: str,
    filename: str,
    options: Options,
    dump_stages: StageDump | None = None,
    inner: InnerPass | None = None,
) -> Generated:
    """The pipeline: parse, validate, normalise, differentiate, emit, format."""
    if options.mode == "hvp":
        return _hvp(source, filename, options, dump_stages)
    collector = Collector(filename, source)
    if is_generated(source) and not options.allow_generated:
        raise collector.error(1, 0, "input is itself generated by codegen (allow_generated to differentiate it again)")
    info = parse.parse_module(source, collector)
    if inner is not None:
        _borrow_rules(info, inner.user)
    names = _select(info, options.functions, collector)
    shadowing.check_module(info, collector)
    forward = options.mode in ("forward", "hvp-inner")
    for name in names:
        validate.check_function(info, info.functions[name], collector, stacks=forward)
    modules = {"math": info.module_alias("math") or "math", "np": info.module_alias("numpy") or "np"}
    for helper in helpers.NAMES:
        # A helper written into the output must not collide with the user's names.
        alias, counter = helper, 0
        while info.names(alias) and not info.is_generated:
            counter += 1
            alias = f"{helper}_{counter}"
        modules[helper] = alias
    results: list[tuple[ir.Function, Backward]] = []
    wrt = set(options.wrt) if options.wrt else None
    for name in names:
        if dump_stages:
            try:
                dump_stages(f"kinds {name}", "\n".join(kinds.infer(info, info.functions[name]).describe()))
            except kinds.KindError:
                pass  # reported by the normaliser, with its position
        try:
            fn = normalise(info, info.functions[name], collector, wrt, forward)
        except CodegenError:
            continue
        fn.types = typed.of(info.functions[name], info.code)
        if dump_stages:
            dump_stages(f"normalise {name}", "\n".join(emit.forward_lines(fn)))
        if forward:
            wanted = inner.vectors.get(name, ()) if inner is not None else None
            takes = None if inner is not None else _reverse_differentiable(info, name, wrt, collector)
            upstream = inner.upstream.get(name, ()) if inner is not None else ()
            mode = ForwardMode(fn, _spellings(modules, fn), wanted, options.assert_shapes, takes, upstream)
            results.append((fn, _forward(mode, info)))
            continue
        results.append((fn, differentiate(fn, _spellings(modules, fn))))
        if options.assert_shapes and fn.annotated:
            results[-1][1].modules.add("np")  # the shape asserts call np.shape
        if dump_stages:
            dump_stages(f"differentiate {name}", emit.function_text(*results[-1], options))
    collector.raise_if_any()
    text = header(source, filename, options.line_length) + "\n" + emit.module_text(info, results, options, filename)
    shadowing.check_output(info, text, [fn.name for fn, _ in results], collector)
    collector.raise_if_any()
    code = fmt.format_code(text, line_length=options.line_length, target_versions=options.target_versions)
    code = seal(wrap(code, options.line_length))
    if dump_stages:
        dump_stages("format", code)
    return Generated(
        code,
        {fn.name: tuple(p.name for p in back.differentiable) for fn, back in results},
        {fn.name: tuple(fn.upstream) for fn, back in results},
    )


def _hvp(source: str, filename: str, options: Options, dump_stages: StageDump | None) -> Generated:
    """Hessian-vector products: forward mode over the generated (fused) backward."""
    plain = replace(
        options, mode="reverse", style="fused", return_value=False, assert_shapes=False, list_literals=False
    )
    reverse = build(source, filename, plain, dump_stages)
    backward_module = reverse.code
    inner = replace(
        options,
        mode="hvp-inner",
        functions=tuple(f"{name}_backward" for name in reverse.wrt),
        wrt=None,
        allow_generated=True,
    )
    vectors = {f"{name}_backward": wrt for name, wrt in reverse.wrt.items()}
    user = parse.parse_module(source, Collector(filename, source))
    try:
        upstream = {f"{name}_backward": names for name, names in reverse.upstream.items()}
        result = build(backward_module, filename, inner, dump_stages, InnerPass(vectors, user, upstream))
    except CodegenError as exc:
        problem = Problem(filename, 1, 1, f"cannot differentiate the generated backward again: {exc.problems[0].message}")
        raise CodegenError([problem]) from None
    code = seal(header(source, filename, options.line_length) + body(result.code))
    return Generated(code, reverse.wrt, reverse.upstream)


def _borrow_rules(info: parse.ModuleInfo, user: parse.ModuleInfo) -> None:
    """The generated backward calls the user's `foo` and `foo_backward`, imported:
    forward mode over it reads their definitions, and `foo_jvp`, `foo_backward_jvp`."""
    for name in user.primitives:
        for function in (name, f"{name}_backward"):
            if function in user.functions and function not in info.functions:
                info.functions[function] = info.borrow(user.functions[function], user)
    info.user_rules.update(user.user_rules)
    info.jvp_rules.update(user.jvp_rules)
    # The output imports from the user's module what it calls (Backward.user_imports).
    stem = info.filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py")
    info.imports = [line for line in info.imports if not line.startswith(f"from {stem} import ")]


def _reverse_differentiable(
    info: parse.ModuleInfo, name: str, wrt: set[str] | None, collector: Collector
) -> tuple[str, ...]:
    """The parameters reverse mode differentiates (forward mode, which keeps one name
    per variable across loop iterations, cannot tell them as finely)."""
    fn = normalise(info, info.functions[name], collector, wrt)
    useful = useful_variables(fn)
    return tuple(p.name for p in fn.params if p.differentiable and (p.name in useful or p.name in fn.forced))


def _forward(mode: ForwardMode, info: parse.ModuleInfo) -> Backward:
    modules = mode.modules
    text = mode.run()
    result = Backward(spellings=modules, modules=mode.used_modules, text=text)
    called = identifiers(ast.parse(text))
    rules = {f"{name}_jvp" for name in info.jvp_rules}
    result.user_imports = {name for name in called if name in rules or name in info.primitives}
    for helper in helpers.NAMES:
        if modules[helper] in called:  # a template's, or generated code's met again
            result.helpers.add(helper)
            result.modules.add("math" if helper in ("_digamma", "_trigamma") else "np")
    result.differentiable = mode.differentiable
    return result


def _spellings(modules: dict[str, str], fn: ir.Function) -> dict[str, str]:
    """How the backward of `fn` names math and numpy: the input's names, unless the
    function binds them itself (a parameter called `math`); then `_math`, `_np`."""
    spelled = dict(modules)
    for key in ("math", "np"):
        if spelled[key] in fn.user_names:
            alias = f"_{key}"
            while alias in fn.user_names:
                alias = f"_{alias}"
            spelled[key] = alias
    return spelled


def _select(info: parse.ModuleInfo, functions: Sequence[str] | None, collector: Collector) -> list[str]:
    """The forward functions to differentiate, in source order."""
    available = info.forward_names()
    if functions is None:
        if not available:
            problem = Problem(collector.filename, 1, 1, "no forward functions (public top-level defs) to differentiate")
            raise NoForwardFunctions([problem])
        return available
    # Named explicitly, a private function is a forward function too (not a rule).
    available += [
        name for name in functions if name.startswith("_") and name in info.functions and name not in available
        and not info.is_user_rule(name) and name not in info.primitives
    ]
    for name in functions:
        if name not in available:
            known = ", ".join(available) or "none"
            collector.add(1, 0, f"no forward function named {name!r} (forward functions: {known})")
    collector.raise_if_any()
    return [name for name in info.functions if name in available and name in functions]


def backward(fn: Callable[..., Any], **options: Any) -> Callable[..., Any]:
    """Compile and return the backward function of the live function `fn`.

    What `fn`'s names are is read from `fn` itself (its globals and closure), so
    a function from a notebook cell, a test or a script works as one in a file:
    its math and numpy imports under any name, the helpers it calls (their
    source read the same way) and numeric constants. Only `fn` and what it calls
    are differentiated; problems are reported at the user's file (or notebook
    cell) and line. Raises `CodegenError` when the source is not available.
    """
    module = live.live_module(fn)
    settings = Options(functions=(fn.__name__,), **options)
    try:
        _refuse_what_python_cannot_compile(module.source, LIVE_FILENAME)
        generated = build(module.source, LIVE_FILENAME, settings)
    except CodegenError as exc:
        raise module.user_error(exc) from None
    namespace: dict[str, Any] = {**module.namespace, "__name__": f"{fn.__module__}_backward"}
    where = f"{module.main.filename}:{module.main.first_line}"
    exec(compile(generated.code, f"<codegen backward of {fn.__name__} from {where}>", "exec"), namespace)
    result = namespace[f"{fn.__name__}_backward"]
    result.wrt = generated.wrt[fn.__name__]
    result.upstream = generated.upstream[fn.__name__]
    if settings.style == "split":
        result.forward = namespace[f"{fn.__name__}_forward"]
    return result
