"""The library entry points: `generate` for source text, `backward` for live functions."""

from __future__ import annotations

import ast
import gc
import io
import sys
import tokenize
from collections.abc import Callable, Sequence
from typing import Any

from codegen.errors import CodegenError, Collector, Problem
from codegen.options import Options
from codegen.pipeline import StageDump, build
from codegen.read import live

# The name a live function's assembled module is built under: never a module name,
# so the output imports nothing from it (the names it needs are the function's own).
LIVE_FILENAME = "<live function>"


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
