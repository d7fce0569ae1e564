"""The `codegen` command's flags: the parser, and the settings they resolve to
over the configuration (`[tool.codegen]`, `[tool.black]`, ruff's)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from codegen import __version__
from codegen.cli import config
from codegen.options import MODES, STYLES, conflict

EPILOG = """\
examples:
  codegen model.py                  write model_backward.py beside model.py
  codegen a.py b.py                 several inputs at once
  codegen model.ipynb               a notebook's code cells: writes model_backward.py
  codegen -f loss --wrt w model.py  only loss, differentiated with respect to w
  codegen -o - model.py             print the generated module on stdout
  codegen -o grads/{stem}.py *.py   name outputs with a pattern
  codegen --check model.py          exit 1 if model_backward.py is missing or stale
  codegen --diff model.py           show what would change, write nothing

Files that carry codegen's generated header are skipped, so `codegen *.py` is
safe. An existing output that lacks the header is never overwritten.

Inputs run in parallel (-W N; default one process per CPU); unchanged inputs
whose outputs are untouched are skipped through a cache in the user's cache
directory (CODEGEN_CACHE_DIR moves it; --no-cache differentiates everything).

configuration:
  [tool.codegen] in the nearest pyproject.toml takes the long flags as keys:
  output = "{stem}_backward.py", functions = ["loss"], wrt = ["w"],
  line-length = 88, target-version = ["py310"], quiet, verbose,
  exit-nonzero-on-change, style, return-value, mode, assert-shapes,
  exclude, extend-exclude, ignore = ["CG502"]. Flags override it. Where neither sets
  line-length or target-version,
  [tool.black]'s are used; then ruff's line-length ([tool.ruff], ruff.toml).

exit codes:
  0    done, or everything up to date
  1    --check found a missing or stale output; an input could not be
       differentiated; an output was refused; or, with
       --exit-nonzero-on-change, an output was created or changed
  2    usage or configuration error
  123  internal error (a bug in codegen; please report it)
"""


OUTPUT_FORMATS = ("full", "concise", "github", "json")


class UsageError(Exception):
    """Bad arguments or configuration: exit 2."""


@dataclass(frozen=True)
class Settings:
    """Everything one run needs: the flags, completed from the configuration."""

    output: str | None
    functions: tuple[str, ...] | None
    wrt: tuple[str, ...] | None
    line_length: int
    target_versions: tuple[str, ...]
    check: bool
    diff: bool
    quiet: bool
    verbose: bool
    dump_stages: bool
    exit_nonzero_on_change: bool
    style: str = "fused"
    return_value: bool = False
    mode: str = "reverse"
    allow_generated: bool = False
    assert_shapes: bool = False
    src: tuple[str, ...] = ()
    ignore: frozenset[str] = frozenset()
    workers: int = 1
    cache: bool = True

    def shaping(self) -> dict[str, object]:
        """The settings that change an output (the cache's key)."""
        names = ("functions", "wrt", "line_length", "target_versions", "style", "return_value", "mode",
                 "allow_generated", "assert_shapes", "src")  # fmt: skip
        return {name: getattr(self, name) for name in names}


def _line_length(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `codegen` command."""
    parser = argparse.ArgumentParser(
        prog="codegen",
        description="Write the staged backward pass of Python forward functions as\n"
        "readable Python, formatted with black. The input is read, never run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="PATH",
        help="forward files (.py, or notebooks .ipynb), directories searched for them (notebooks that define a public function), or '-' for standard input",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output path for a single input ('-' for stdout), or a pattern with "
        "{stem} resolved beside each input (default: {stem}_backward.py)",
    )
    parser.add_argument(
        "-f",
        "--function",
        dest="functions",
        action="append",
        metavar="NAME",
        help="differentiate only this function (repeatable; default: every public def)",
    )
    parser.add_argument(
        "--wrt",
        action="append",
        metavar="NAME",
        help="parameter to differentiate with respect to (repeatable; "
        "overrides the automatic choice)",
    )
    parser.add_argument(
        "--style",
        choices=STYLES,
        help="fused: f_backward(params, dout) recomputes the forward pass (default); "
        "split: f_forward(params) -> (out, cache) and f_backward(dout, cache)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="reverse: f_backward, gradients (default); forward: f_jvp(params, tangents) "
        "-> (out, out_tangent), the directional derivative; hvp: f_hvp(params, vectors), "
        "Hessian-vector products",
    )
    parser.add_argument(
        "--hvp",
        action="store_const",
        const="hvp",
        dest="mode",
        help="shortcut for --mode hvp",
    )
    parser.add_argument(
        "--allow-generated",
        action="store_true",
        help="differentiate codegen's own output again (second derivatives)",
    )
    parser.add_argument(
        "--return-value",
        action="store_true",
        help="a fused f_backward returns (value, gradients)",
    )
    parser.add_argument(
        "--assert-shapes",
        action="store_true",
        default=None,
        help="the generated code asserts the shapes of annotated parameters "
        "(x: \"N D\") and of their gradients",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if any output is missing or stale",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print a unified diff of what would change on stdout",
    )
    parser.add_argument(
        "--exit-nonzero-on-change",
        action="store_true",
        default=None,
        help="exit 1 when an output file was created or changed (for pre-commit)",
    )
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", default=None, help="print errors only"
    )
    verbosity.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=None,
        help="also report up-to-date outputs and the configuration used",
    )
    parser.add_argument(
        "-l",
        "--line-length",
        type=_line_length,
        metavar="N",
        help="line length of the output (default: [tool.black]'s, else [tool.ruff]'s, else 88)",
    )
    parser.add_argument(
        "-t",
        "--target-version",
        dest="target_versions",
        action="append",
        metavar="VER",
        help="Python version the output must support, as black's (py310; repeatable)",
    )
    parser.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default="full",
        help="how problems in inputs are reported: full (with the source line, on stderr), "
        "concise (one line each), github (workflow commands, on stdout), json (on stdout)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="CODE",
        help="rule codes whose messages are not reported (comma-separated, repeatable): "
        "CG501 orphaned outputs, CG502 outputs edited by hand; no other code can be ignored",
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="with the input '-' (standard input): the file name for messages, "
        "the header and finding the configuration",
    )
    parser.add_argument(
        "--exclude",
        metavar="REGEX",
        help="paths under a directory argument to leave out, matched from the project "
        "root as black matches them (default: black's: .git, .venv, build, ...)",
    )
    parser.add_argument(
        "--extend-exclude",
        metavar="REGEX",
        help="more paths to leave out, besides --exclude's",
    )
    parser.add_argument(
        "-W",
        "--workers",
        type=_line_length,
        metavar="N",
        help="processes differentiating inputs in parallel (default: the number of CPUs; "
        "CODEGEN_NUM_WORKERS sets it too)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="differentiate every input, even one the cache knows to be up to date "
        "(the cache: CODEGEN_CACHE_DIR, else the user's cache directory)",
    )
    parser.add_argument(
        "--dump-stages",
        action="store_true",
        help="print the code after each pipeline stage on stderr",
    )
    parser.add_argument("--version", action="version", version=f"codegen {__version__}")
    return parser


def resolve_settings(args: argparse.Namespace, cfg: config.Config) -> Settings:
    """Merge flags over `[tool.codegen]` over `[tool.black]` over the defaults."""
    if args.output is not None and args.output != "-" and "{" in args.output:
        config.check_pattern(args.output, "-o/--output")
    target_versions: tuple[str, ...] = ()
    if args.target_versions:
        known = config.target_version_names()
        for name in args.target_versions:
            if name.lower() not in known:
                raise UsageError(f"unknown target version {name!r} (known: {', '.join(known)})")
        target_versions = tuple(n.lower() for n in args.target_versions)
    elif cfg.target_versions is not None:
        target_versions = cfg.target_versions
    elif cfg.black_target_versions is not None:
        target_versions = cfg.black_target_versions
    if args.quiet or args.verbose:
        quiet, verbose = bool(args.quiet), bool(args.verbose)
    else:
        quiet, verbose = bool(cfg.quiet), bool(cfg.verbose) and not cfg.quiet
    functions = tuple(args.functions) if args.functions else cfg.functions
    wrt = tuple(args.wrt) if args.wrt else cfg.wrt
    style, mode = args.style or cfg.style or "fused", args.mode or cfg.mode or "reverse"
    return_value = bool(args.return_value or cfg.return_value)
    problem = conflict(style, mode, return_value, flags=True)
    if problem:
        raise UsageError(problem)
    if args.ignore:
        codes = [c.strip() for text in args.ignore for c in text.split(",") if c.strip()]
        ignore = config.ignored_codes(codes, "--ignore")
    else:
        ignore = cfg.ignore or ()
    return Settings(
        output=args.output if args.output is not None else cfg.output,
        functions=functions,
        wrt=wrt,
        line_length=args.line_length or cfg.line_length or cfg.black_line_length or cfg.ruff_line_length or 88,
        target_versions=target_versions,
        check=args.check,
        diff=args.diff,
        quiet=quiet,
        verbose=verbose,
        dump_stages=args.dump_stages,
        exit_nonzero_on_change=bool(args.exit_nonzero_on_change or cfg.exit_nonzero_on_change),
        style=style,
        return_value=return_value,
        mode=mode,
        allow_generated=bool(args.allow_generated),
        assert_shapes=bool(args.assert_shapes or cfg.assert_shapes),
        src=cfg.src(),
        ignore=frozenset(ignore),
        workers=args.workers or _default_workers(),
        cache=not args.no_cache and not args.dump_stages,
    )


def _default_workers() -> int:
    """CODEGEN_NUM_WORKERS, else the number of CPUs (black's habit)."""
    text = os.environ.get("CODEGEN_NUM_WORKERS", "")
    try:
        return _line_length(text) if text else os.cpu_count() or 1
    except argparse.ArgumentTypeError:
        raise UsageError(f"CODEGEN_NUM_WORKERS must be a positive integer, not {text!r}") from None
