"""Hostile and unusual inputs: each gets a correct backward or a clean, positioned error.

A clean error is a `codegen.CodegenError` whose `filename`, `line` and `column`
point at the offending construct; through the CLI it is one
`file:line:col: error: ...` line per problem (with the source line and a caret),
exit 1, no traceback, no output file, and an existing output left byte-identical.
Never a traceback, never a wrong gradient, never running the input.

The CLI cases run in one subprocess over many files, so the battery stays fast.
"""

from __future__ import annotations

import contextlib
import math
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, gradient_names, load

RunCodegen = Callable[..., "subprocess.CompletedProcess[str]"]
ERROR_LINE = re.compile(r"^(?P<file>[^:\n]+\.py):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", re.M)


def bug(reason: str) -> Any:
    """A known core bug (see /work/bugs-reliability.md); the test flips when it is fixed."""
    return pytest.mark.xfail(strict=True, reason=f"bug: {reason}")


def refuse(source: str, filename: str = "fwd.py") -> codegen.CodegenError:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, filename=filename)
    error = info.value
    assert error.filename == filename
    assert error.problems and all(p.filename == filename for p in error.problems)
    return error


# ---- syntax errors: the position is the one Python itself reports -------------------

SYNTAX_ERRORS = {
    "dangling-operator": "def f(x):\n    return x +\n",
    "missing-colon": "def f(x)\n    return x\n",
    "unclosed-paren": "def f(x):\n    y = (x * 2\n    return y\n",
    "bad-dedent": "def f(x):\n    y = x\n  return y\n",
    "unexpected-indent": "def f(x):\n  y = x\n    return y\n",
    "tabs-and-spaces": "def f(x):\n\ty = x\n        return y\n",
    "python2-print": "def f(x):\n    print x\n    return x\n",
    "unterminated-string": "def f(x):\n    s = 'abc\n    return x\n",
    "keyword-as-name": "def f(x):\n    class = x\n    return x\n",
    "second-function-broken": "def f(x):\n    return x\n\n\ndef g(x):\n    return x *\n",
}


@pytest.mark.parametrize("source", SYNTAX_ERRORS.values(), ids=SYNTAX_ERRORS.keys())
def test_syntax_error_points_where_python_does(source: str) -> None:
    with pytest.raises(SyntaxError) as python:
        compile(source, "fwd.py", "exec")
    error = refuse(source)
    assert "syntax" in error.message.lower() or "indent" in error.message.lower(), error.message
    assert error.line == python.value.lineno, (error, python.value)
    if python.value.offset is not None and python.value.lineno == error.line:
        # Python's own caret; tabs/indent errors may legitimately differ by a little.
        assert abs(error.column - python.value.offset) <= 1 or "indent" in str(python.value.msg), (
            error,
            python.value.offset,
        )


def test_null_byte_is_a_clean_error() -> None:
    error = refuse("def f(x):\n    return x\x00\n")
    assert error.line >= 1


# ---- unsupported constructs: refused at the construct -----------------------------

# id: (source, line, column, word expected in the message)
UNSUPPORTED = {
    "try": (
        "def f(x):\n    try:\n        y = x\n    except ValueError:\n        y = 0.0\n    return y\n",
        2,
        5,
        "try",
    ),
    "with": ("def f(x):\n    with open('a') as h:\n        y = x\n    return y\n", 2, 5, "with"),
    "yield": ("def f(x):\n    y = yield x\n    return y\n", 2, 9, "yield"),
    "yield-statement": ("def f(x):\n    yield x\n    return x\n", 2, 5, ""),
    "lambda": ("def f(x):\n    g = lambda t: t * 2\n    return g(x)\n", 2, 9, "lambda"),
    "global": ("K = 1.0\n\n\ndef f(x):\n    global K\n    return x * K\n", 5, 5, "global"),
    "nonlocal": ("def f(x):\n    nonlocal y\n    return x\n", 2, 5, "nonlocal"),
    "class-inside": ("def f(x):\n    class C:\n        pass\n    return x\n", 2, 5, "class"),
    # A local def at the top of the body is inlined like a module function (tests/test_lists_helpers.py).
    "nested-def": ("def f(x):\n    if x > 0:\n        def g(t):\n            return t\n    return x\n", 3, 9, "nested"),
    "star-args": ("def f(x, *args):\n    return x\n", 1, 10, "*args"),
    "star-kwargs": ("def f(x, **kwargs):\n    return x\n", 1, 10, "kwargs"),
    "del": ("def f(x):\n    y = x\n    del y\n    return x\n", 3, 5, "del"),
    "raise": ("def f(x):\n    raise ValueError('no')\n    return x\n", 2, 5, "raise"),
    "async-def": ("async def f(x):\n    return x\n", 1, 1, "async"),
    "decorator": (
        "import functools\n\n\n@functools.lru_cache\ndef f(x):\n    return x * x\n",
        4,
        1,
        "decorat",
    ),
    "import-inside": ("def f(x):\n    import math\n    return math.sin(x)\n", 2, 5, "import"),
    "comprehension": (
        "def f(x):\n    y = [x * i for i in range(3)] or [x]\n    return y[0]\n",
        2,
        9,
        "comprehension",
    ),
    "walrus": ("def f(x):\n    return (y := x) * y\n", 2, 13, ":="),
    "expression-statement": ("def f(x):\n    abs(x)\n    return x\n", 2, 5, "only print, logging and warnings.warn calls"),
    "unknown-math-function": (
        "import math\n\n\ndef f(x):\n    return math.frexp(x)[0]\n",
        5,
        12,
        "math.frexp",
    ),
    "math-without-rule": ("import math\n\n\ndef f(x):\n    return math.prod([x, x])\n", 5, 12, "math.prod"),
    "unknown-name": ("def f(x):\n    return x * foo(x)\n", 2, 16, "foo"),
    "numpy-not-imported": ("def f(x):\n    return np.exp(x)\n", 2, 12, "np.exp"),
    "method-of-a-class": (
        "class C:\n    def g(self, x):\n        return x * x\n\n\ndef f(x):\n    return C().g(x)\n",
        7,
        12,
        "",
    ),
    "no-return": ("def f(x):\n    y = x * 2\n", 1, 5, "return"),
    "bare-return": ("def f(x):\n    y = x * 2\n    return\n", 3, 5, "return"),
    "direct-recursion": ("def f(x):\n    return f(x * 0.5) + x\n", 2, 12, "recursi"),
    "recursion-through-private-helpers": (
        "def f(x):\n    return _g(x) * 2\n\n\ndef _g(x):\n    return _h(x) + 1\n\n\ndef _h(x):\n    return _g(x)\n",
        10,
        12,
        "recursi",
    ),
    "max-of-three": ("def f(x, y, z):\n    return max(x, y, z)\n", 2, 12, "max"),
    "bit-operator": ("def f(x):\n    return x << 1\n", 2, 12, ""),
    # Python's parser counts columns in UTF-8 bytes; messages count characters.
    "after-non-ascii": ("def f(α):\n    β = 'é' + str(α); γ = lambda t: t\n    return α\n", 2, 27, "lambda"),
    "unknown-non-ascii-name": ("def f(α):\n    return α * ζ(α)\n", 2, 16, "ζ"),
    "star-args-spaced": ("def f(x, * args):\n    return x\n", 1, 10, "*args"),
    "decorator-spaced": ("import functools\n\n\n@ functools.cache\ndef f(x):\n    return x\n", 4, 1, "decorat"),
    "no-return-async": ("async def f(x):\n    y = x\n", 1, 1, "async"),
    "after-docstring": ('def f(x):\n    """Doc."""\n    for i in range(2):\n        def g(t):\n            return t\n    return x\n', 4, 9, "nested"),
    "in-a-default": ("def f(x, k=lambda t: t):\n    return x\n", 1, 12, "lambda"),
}


@pytest.mark.parametrize(("source", "line", "column", "word"), UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_unsupported_is_refused_at_the_construct(source: str, line: int, column: int, word: str) -> None:
    error = refuse(source)
    assert (error.line, error.column) == (line, column), str(error)
    assert word.lower() in error.message.lower(), error.message
    rendered = str(error)
    assert rendered.startswith(f"fwd.py:{line}:{column}: error: ")
    assert source.splitlines()[line - 1].rstrip() in rendered  # the source line ...
    assert "\n    " + " " * (column - 1) + "^" in rendered  # ... and a caret under the column


def test_a_line_separator_inside_a_string_is_no_line_end() -> None:
    """Python ends lines at \\n and \\r only; str.splitlines also at \\u2028 and \\x0c."""
    error = refuse('def f(x):\n    s = "a\u2028b\x0cc"\n    y = lambda t: t\n    return x\n')
    assert (error.line, error.column) == (3, 9)
    assert "\n        y = lambda t: t\n            ^" in str(error)


def test_mutual_recursion_is_refused_at_a_recursive_call() -> None:
    source = "def f(x):\n    return g(x) * 2\n\n\ndef g(x):\n    return f(x) + 1\n"
    error = refuse(source)
    assert "recursi" in error.message.lower()
    assert (error.line, error.column) in {(2, 12), (6, 12)}, str(error)


def test_every_problem_is_reported() -> None:
    source = "def f(x):\n    try:\n        y = x\n    finally:\n        pass\n    del x\n    return y\n"
    error = refuse(source)
    positions = {(p.line, p.column) for p in error.problems}
    assert {(2, 5), (6, 5)} <= positions, str(error)


def test_top_level_classes_and_their_methods_are_left_alone() -> None:
    source = (
        "class Layer:\n    scale = 2.0\n\n    def forward(self, x):\n        return x * x\n\n\n"
        "def f(x):\n    return x * 3.0\n"
    )
    forward, backward, code = load(source)
    assert "def f_backward(" in code and "forward_backward" not in code
    check_gradients(forward["f"], backward["f_backward"], [0.7])


def test_imports_keep_their_comments_and_each_of_several_on_a_line_counts() -> None:
    source = (
        "import math; import numpy as np  # noqa: F401\nfrom math import (  # the scalar ones\n    tanh,\n)\n\n\n"
        "def f(x):\n    return np.sum(np.exp(x)) * math.pi + tanh(x[0])\n"
    )
    forward, backward, code = load(source)
    assert "import numpy as np  # noqa: F401\n" in code and "from math import (  # the scalar ones\n" in code
    check_gradients(forward["f"], backward["f_backward"], [np.array([0.3, -0.2])])


# ---- files: empty, comments only, private only, non-UTF-8 ---------------------------


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\n\n",
        "# just a comment\n",
        "import math\n",
        "def _private(x):\n    return x\n",
        '"""Docstring."""\n',
    ],
    ids=["empty", "blank-lines", "comment", "import-only", "private-only", "docstring-only"],
)
def test_module_without_forward_functions(source: str) -> None:
    try:
        code = codegen.generate(source, filename="fwd.py")
    except codegen.CodegenError as error:
        assert error.line == 1
        return
    namespace: dict[str, Any] = {}
    exec(compile(code, "out.py", "exec"), namespace)
    assert not [name for name in namespace if name.endswith("_backward")]


def test_cli_on_empty_file_writes_nothing(project: Path, codegen: RunCodegen) -> None:
    (project / "empty.py").write_bytes(b"")
    result = codegen("empty.py")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "empty_backward.py").exists()


# ---- huge and deeply nested expressions: no RecursionError, no hang -----------------------

# Seconds one of these inputs may take to generate: a few times what a
# near-linear pipeline needs on a slow, busy CI machine.
TIME_LIMIT = 10.0


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the test if the block runs longer than `seconds`."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"generation took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sum(n: int) -> str:
    return "def f(x):\n    return " + " + ".join(f"x * {i}" for i in range(1, n + 1)) + "\n"


# id: (source, marks, seconds allowed)
DEEP: dict[str, tuple[str, Any, float]] = {
    "sum-300": (_sum(300), None, TIME_LIMIT),
    # Beyond CPython's own compiler: to be refused (README), not turned into an output
    # CPython cannot compile either.
    "sum-3000": (
        _sum(3000),
        None,  # B20, fixed: refused at once, at the statement
        TIME_LIMIT,
    ),
    "parens-200": ("def f(x):\n    return " + "(" * 200 + "x" + ")" * 200 + " * x\n", None, TIME_LIMIT),
    "calls-150": (
        "import math\n\n\ndef f(x):\n    return " + "math.sin(" * 150 + "x" + ")" * 150 + "\n",
        None,
        TIME_LIMIT,
    ),
    "calls-200": (
        "import math\n\n\ndef f(x):\n    return " + "math.sin(" * 200 + "x" + ")" * 200 + "\n",
        None,  # B17, fixed in 921e13b
        TIME_LIMIT,
    ),
    "minus-300": ("def f(x):\n    return " + "-" * 300 + "x\n", None, TIME_LIMIT),
    "products-150": ("def f(x):\n    return " + "x * (" * 150 + "x" + ")" * 150 + "\n", None, TIME_LIMIT),
    "statements-400": ("def f(x):\n" + "    x = x * 1.0001\n" * 400 + "    return x\n", None, TIME_LIMIT),
}


@pytest.mark.parametrize(
    ("source", "seconds"),
    [pytest.param(s, t, marks=m or (), id=k) for k, (s, m, t) in DEEP.items()],
)
def test_huge_and_deep_expressions(source: str, seconds: float) -> None:
    try:
        compile(source, "fwd.py", "exec")
        python_compiles = True
    except (SyntaxError, RecursionError, MemoryError):
        python_compiles = False
    try:
        with time_limit(seconds):
            code = codegen.generate(source, filename="fwd.py")
    except codegen.CodegenError as error:
        # Acceptable only where CPython cannot compile the input either.
        assert not python_compiles, str(error)
        assert error.line >= 1
        return
    assert python_compiles, "an input CPython cannot compile must be refused"
    backward: dict[str, Any] = {}
    exec(compile(code, "out.py", "exec"), backward)
    forward: dict[str, Any] = {}
    exec(compile(source, "fwd.py", "exec"), forward)
    check_gradients(forward["f"], backward["f_backward"], [0.3])


# ---- names: unicode, and names codegen itself generates ---------------------------------

# id: (source, arguments)
COLLISIONS: dict[str, tuple[str, list[Any], Any]] = {
    "unicode": ("def f(α, β):\n    γ = α * β\n    return γ + α * α\n", [0.7, -1.3], None),
    "unicode-math": (
        "import math\n\n\ndef f(θ, r):\n    return r * math.cos(θ) + r * math.sin(θ)\n",
        [0.7, 1.3],
        None,
    ),
    "local-dx": ("def f(x):\n    dx = x * 2\n    return dx * x\n", [0.7], None),
    "param-dx": ("def f(x, dx):\n    return x * dx + x\n", [0.7, 1.3], None),
    "local-d_x-and-dx": ("def f(x):\n    dx = x * 2\n    d_x = dx * x\n    return d_x + dx\n", [0.7], None),
    "param-np": ("def f(x, np):\n    return x * np\n", [0.7, 1.3], None),
    "param-np-numpy-module": ("import numpy as np\n\n\ndef f(x, np):\n    return x * np\n", [0.7, 1.3], None),
    "param-math": ("def f(x, y, math):\n    return x ** y * math\n", [0.7, 1.3, 0.4], None),
    "local-math": (
        "import math\n\n\ndef f(x, y):\n    math = x * 2\n    return y ** math\n",
        [0.7, 1.3],
        None,
    ),
    "local-out-dout": (
        "def f(x):\n    out = x * x\n    dout = out * 2\n    return out + dout\n",
        [0.7],
        None,
    ),
    "param-out": ("def f(x, out):\n    return x * out\n", [0.7, 1.3], None),
    "param-dout": ("def f(x, dout):\n    return x * dout\n", [0.7, 1.3], None),
    "local-named-like-a-gradient": (
        "import math\n\n\ndef f(x):\n    da = x * 2.0\n    da = math.tanh(da)\n    a_1 = x * 3.0\n    return da, a_1\n",
        [0.3],
        None,
    ),
    "return-a-parameter": ("def f(x):\n    y = x * x\n    return x, y\n", [0.7], None),
    "local-_unbroadcast": ("def f(x):\n    _unbroadcast = x * 2\n    return _unbroadcast * x\n", [0.7], None),
    "local-_unbroadcast-numpy": (
        "import numpy as np\n\n\ndef f(x, b):\n    _unbroadcast = x + b\n    return np.sum(_unbroadcast * _unbroadcast)\n",
        [np.linspace(-1, 1, 12).reshape(3, 4), np.array([0.1, 0.2, -0.3, 0.4])],
        None,
    ),
    "local-_dot_shape": (
        "import numpy as np\n\n\ndef f(x, w, b):\n    _dot_shape = x.dot(w) + b\n    return np.sum(_dot_shape * _dot_shape)\n",
        [np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0.5, -0.5, 8).reshape(4, 2), np.array([0.1, -0.2])],
        None,
    ),
    "local-_digamma": (
        "import math\n\n\ndef f(x):\n    _digamma = x * 2\n    return math.lgamma(_digamma)\n",
        [0.7],
        None,
    ),
    "ssa-version-taken": (
        "def f(x, x_1):\n    x = x * x_1\n    x = x + x_1\n    return x\n",
        [0.7, 1.3],
        None,
    ),
    "temporary-name-taken": (
        "import math\n\n\ndef f(x, tanh_x):\n    return math.tanh(math.tanh(x)) * tanh_x\n",
        [0.7, 1.3],
        None,
    ),
    "template-placeholder-g": (
        "import math\n\n\ndef f(x, g):\n    return math.sin(x * g)\n",
        [0.7, 1.3],
        None,
    ),
    "builtin-names": (
        "def f(x, len, float):\n    abs = x * len\n    return abs * float\n",
        [0.7, 1.3, 0.4],
        None,
    ),
    "dunder-name": ("def f(__x):\n    return __x * __x\n", [0.7], None),
    "function-named-like-a-backward": (
        "def f(x):\n    return x * x\n\n\ndef g_backward(x):\n    return x * 3.0\n",
        [0.7],
        None,
    ),
}


@pytest.mark.parametrize(
    ("source", "args"),
    [pytest.param(s, a, marks=m or (), id=k) for k, (s, a, m) in COLLISIONS.items()],
)
def test_names_that_collide_with_generated_names(source: str, args: list[Any]) -> None:
    forward, backward, code = load(source)
    backward_fn = backward["f_backward"]
    assert gradient_names(backward_fn), code
    check_gradients(forward["f"], backward_fn, args)


def test_crlf_and_bom_files_through_the_cli(project: Path, codegen: RunCodegen) -> None:
    (project / "crlf.py").write_bytes(b"import math\r\n\r\n\r\ndef f(x):\r\n    return math.sin(x) * x\r\n")
    (project / "bom.py").write_bytes("\ufeffdef f(θ):\n    return θ * θ\n".encode())
    result = codegen("crlf.py", "bom.py")
    assert result.returncode == 0, result.stderr
    for name, value, expected in [("crlf", 0.5, math.sin(0.5) + 0.5 * math.cos(0.5)), ("bom", 0.5, 1.0)]:
        text = (project / f"{name}_backward.py").read_bytes()
        assert b"\r" not in text
        namespace: dict[str, Any] = {}
        exec(compile(text.decode("utf-8"), name, "exec"), namespace)
        assert namespace["f_backward"](value) == pytest.approx(expected, rel=1e-12)


# ---- the CLI: one run over the whole battery ------------------------------------------


def _unsupported(key: str) -> tuple[bytes, tuple[int, int]]:
    source, line, column, _ = UNSUPPORTED[key]
    return source.encode(), (line, column)


# file name: (bytes, expected (line, column); column -1 means "as Python reports it")
CLI_BAD: dict[str, tuple[bytes, tuple[int, int]]] = {
    "syntax.py": (b"def f(x):\n    return x +\n", (2, -1)),
    "indent.py": (b"def f(x):\n  y = x\n    return y\n", (3, -1)),
    "try_.py": _unsupported("try"),
    "lambda_.py": _unsupported("lambda"),
    "recursion.py": _unsupported("direct-recursion"),
    "noreturn.py": _unsupported("no-return"),
    "unknown.py": _unsupported("unknown-math-function"),
    "starargs.py": _unsupported("star-args"),
    "latin1.py": ("def f(x):\n    # café\n    return x\n".encode("latin-1"), (2, 10)),
    "badbyte.py": (b"import math\n\n\ndef f(x):\n    return x  # \xff\xfe\n", (5, 17)),
    "unicode_bad.py": ("def f(α):\n    β = α * 2\n    return β << α\n".encode(), (3, 12)),
}


def test_cli_battery_exit_1_one_error_line_each_nothing_written(project: Path, codegen: RunCodegen) -> None:
    for name, (data, _) in CLI_BAD.items():
        (project / name).write_bytes(data)
    # Every other input already has an output, from an earlier good version.
    previous: dict[str, bytes] = {}
    for name in list(CLI_BAD)[::2]:
        target = project / name.replace(".py", "_backward.py")
        text = codegen_output_for_good_version()
        target.write_bytes(text)
        previous[target.name] = text
    result = codegen(*CLI_BAD)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""
    errors = ERROR_LINE.findall(result.stderr)
    assert {e[0] for e in errors} == set(CLI_BAD), result.stderr
    for name, (data, (line, column)) in CLI_BAD.items():
        first = next(e for e in errors if e[0] == name)
        assert int(first[1]) == line, (name, first)
        if column >= 0:
            assert int(first[2]) == column, (name, first)
    # Every other stderr line is a quoted source line, a caret, or the summary.
    for text in result.stderr.splitlines():
        assert ERROR_LINE.match(text) or text.startswith("    ") or text.endswith("failed."), text
    assert f"{len(CLI_BAD)} files failed." in result.stderr
    # No output was created; earlier outputs are byte-identical; no temporary files.
    produced = sorted(p.name for p in project.iterdir() if p.name not in CLI_BAD and p.name != ".git")
    assert produced == sorted(previous), produced
    for name, data in previous.items():
        assert (project / name).read_bytes() == data


def codegen_output_for_good_version() -> bytes:
    return codegen.generate("def f(x):\n    return x * x\n", filename="good.py").encode()


# ---- the input is never executed -------------------------------------------------------


def _side_effect_source(marker: Path) -> str:
    return (
        "import math\nimport pathlib\n\n"
        f"pathlib.Path({str(marker)!r}).write_text('the forward module was executed')\n"
        "raise RuntimeError('the forward module was executed')\n\n\n"
        "class Model:\n"
        f"    pathlib.Path({str(marker)!r}).write_text('a class body was executed')\n\n\n"
        "def f(x, y):\n    a = x * y\n    return math.exp(a)\n"
    )


def test_generate_never_executes_the_input(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    code = codegen.generate(_side_effect_source(marker), filename="fwd.py")
    assert "def f_backward(" in code
    assert not marker.exists()
    with pytest.raises(codegen.CodegenError):
        codegen.generate(
            _side_effect_source(marker)
            + "\n\ndef g(x):\n    try:\n        pass\n    finally:\n        pass\n    return x\n"
        )
    assert not marker.exists()


@pytest.mark.parametrize(
    "flags",
    [(), ("--diff",), ("--exit-nonzero-on-change",)],
    ids=["write", "diff", "pre-commit-hook-entry"],
)
def test_cli_never_executes_the_input(project: Path, codegen: RunCodegen, flags: tuple[str, ...]) -> None:
    marker = project / "ran.txt"
    (project / "fwd.py").write_text(_side_effect_source(marker), encoding="utf-8")
    result = codegen(*flags, "fwd.py")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_generate_does_not_import_what_the_input_imports() -> None:
    source = "import math\nimport not_a_real_module_xyz\nfrom nowhere import thing\n\n\ndef f(x):\n    return math.tanh(x)\n"
    code = codegen.generate(source, filename="fwd.py")
    assert "def f_backward(" in code
    assert "not_a_real_module_xyz" not in sys.modules


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return math.exp(x)", "math.exp: math is not imported (add `import math`"),
        ("return np.sum(np.exp(x))", "np.sum: np is not imported (add `import numpy as np`"),
        ("return numpy.tanh(x)", "numpy.tanh: numpy is not imported (add `import numpy`"),
    ],
    ids=["math", "np", "numpy"],
)
def test_a_module_used_but_not_imported_is_named(body: str, message: str) -> None:
    error = refuse(f"def f(x):\n    y = x * 2\n    {body}\n")
    assert (error.line, error.column) == (3, 12)
    assert error.message == message + " at the top of the module)"


def test_cli_says_math_is_not_imported(project: Path, codegen: RunCodegen) -> None:
    (project / "fwd.py").write_text("def f(x):\n    return math.exp(x)\n", encoding="utf-8")
    result = codegen("fwd.py")
    assert result.returncode == 1
    assert "fwd.py:2:12: error: math.exp: math is not imported (add `import math` at the top" in result.stderr
    assert "takes at most" not in result.stderr
    assert not (project / "fwd_backward.py").exists()
