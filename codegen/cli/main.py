"""The `codegen` command: turn forward files into `<stem>_backward.py` files."""

from __future__ import annotations

import argparse
import difflib
import enum
import json
import os
import re
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codegen import __version__
from codegen.api import generate
from codegen.cli import cache, config, discover, files, jobs
from codegen.emit.header import edited, generated_from, hash_line, is_generated
from codegen.errors import CodegenError, NoForwardFunctions, Problem
from codegen.options import MODES, STYLES, conflict
from codegen.pipeline import StageDump
from codegen.read import notebook
from codegen.read.sourcemap import Assembled

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


class Outcome(enum.Enum):
    """What happened to one input; the order is the summary's."""

    WRITTEN = "written"
    PRINTED = "printed"
    UNCHANGED = "unchanged"
    STALE = "would be regenerated"
    UP_TO_DATE = "up to date"
    SKIPPED = "skipped"
    FAILED = "failed"
    CRASHED = "crashed"


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


@dataclass
class Report:
    """Counts outcomes, prints black-style messages and picks the exit code."""

    settings: Settings
    outcomes: list[Outcome] = field(default_factory=list)
    output_format: str = "full"
    problems: list[Problem] = field(default_factory=list)
    # A job's report (see `run_job`) keeps its messages here, in order, for the
    # run's report to `replay`; `learnt` is the sha256 of the input and of its
    # output once the output is known to be up to date.
    events: list[tuple[str, object]] | None = None
    learnt: tuple[str, str] | None = None

    def ignores(self, code: str) -> bool:
        """Whether messages of this rule code are ignored (`--ignore`, `ignore = [...]`)."""
        return code in self.settings.ignore

    def problem(self, problem: Problem) -> None:
        """A problem in an input or an output, in the chosen output format; an
        ignored one (only ever a code of `errors.IGNORABLE`) is not shown."""
        if self.events is not None:
            self.events.append(("problem", problem))
            return
        if self.ignores(problem.code):
            return
        if self.output_format in ("full", "concise"):
            self.error(problem.render(concise=self.output_format == "concise"))
        elif self.output_format == "github":
            place = f"file={problem.filename},line={problem.line},col={problem.column},title=codegen {problem.code}"
            message = problem.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            write_stdout(f"::{problem.severity} {place}::{message}\n")
        else:
            self.problems.append(problem)

    def finish(self) -> None:
        """With --output-format json: every problem, as one JSON list on stdout."""
        if self.output_format == "json":
            found = [
                {
                    "filename": p.filename,
                    "line": p.line,
                    "column": p.column,
                    "code": p.code,
                    "severity": p.severity,
                    "message": p.message,
                }
                for p in self.problems
            ]
            write_stdout(json.dumps(found, indent=2) + "\n")

    def note(self, message: str) -> None:
        """A progress message on stderr, silenced by -q."""
        if not self.settings.quiet:
            self.error(message)

    def detail(self, message: str) -> None:
        """A message on stderr shown only with -v."""
        if self.settings.verbose and not self.settings.quiet:
            self.error(message)

    def error(self, message: str) -> None:
        """An error on stderr, always shown."""
        if self.events is not None:
            self.events.append(("stderr", message))
        else:
            print(message, file=sys.stderr)

    def stdout(self, text: str) -> None:
        """Generated code or a diff, on stdout."""
        if self.events is not None:
            self.events.append(("stdout", text))
        else:
            write_stdout(text)

    def replay(self, events: Sequence[tuple[str, object]]) -> None:
        """Show the messages a job's report kept, in their order."""
        for kind, payload in events:
            if kind == "problem":
                assert isinstance(payload, Problem)
                self.problem(payload)
            elif kind == "stdout":
                self.stdout(str(payload))
            else:
                self.error(str(payload))

    def summary(self) -> str:
        """`2 files written, 1 unchanged, 1 failed.`: non-zero counts only."""
        counts = {outcome: 0 for outcome in Outcome}
        for outcome in self.outcomes:
            counts[Outcome.FAILED if outcome is Outcome.CRASHED else outcome] += 1
        parts = []
        for outcome, n in counts.items():
            if n:
                noun = "" if parts else (" file" if n == 1 else " files")
                parts.append(f"{n}{noun} {outcome.value}")
        return ", ".join(parts) + "."

    def exit_code(self) -> int:
        """123 for a crash, else 1 for a failure, a stale --check or a flagged change, else 0."""
        if Outcome.CRASHED in self.outcomes:
            return 123
        if Outcome.FAILED in self.outcomes:
            return 1
        if self.settings.check and Outcome.STALE in self.outcomes:
            return 1
        if self.settings.exit_nonzero_on_change and Outcome.WRITTEN in self.outcomes:
            return 1
        return 0


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


def _regex(text: str | None, where: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise UsageError(f"{where}: not a regular expression: {text!r} ({exc})") from None


def check_inputs(inputs: Sequence[str], exclude: str | None = None, extend_exclude: str | None = None) -> list[Path]:
    """The input paths, de-duplicated: files as named, and the `.py` files under
    each directory (see `codegen.discover`)."""
    if not inputs:
        raise UsageError("no input files given (try: codegen model.py; see codegen --help)")
    excluded = _regex(exclude, "--exclude") or re.compile(discover.DEFAULT_EXCLUDES)
    extended = _regex(extend_exclude, "--extend-exclude")
    paths: list[Path] = []
    seen: set[str] = set()
    for name in inputs:
        path = Path(name)
        if not path.exists():
            raise UsageError(f"{name}: no such file")
        if not path.is_dir() and not path.is_file():
            raise UsageError(f"{name}: not a file")
        found = discover.forward_files(path, excluded, extended) if path.is_dir() else [path]
        for item in found:
            key = os.path.realpath(item)
            if key not in seen:
                seen.add(key)
                paths.append(item)
    return paths


def plan_outputs(inputs: Sequence[Path], settings: Settings) -> list[Path | None]:
    """The output of each input (`None` for stdout); two inputs never share one."""
    output = settings.output
    is_pattern = output is None or (output != "-" and "{" in output)
    if not is_pattern and len(inputs) > 1:
        raise UsageError(
            f"-o {output} takes a single input, got {len(inputs)} "
            "(use a pattern such as -o '{stem}_grad.py' for several)"
        )
    if output == "-" and (settings.check or settings.diff):
        raise UsageError("--check and --diff compare with an output file; they do not go with -o -")
    if output == "-":
        return [None]
    if not is_pattern:
        return [Path(output)]
    pattern = output or config.DEFAULT_OUTPUT
    targets = [files.output_path(p, pattern) for p in inputs]
    owners: dict[str, Path] = {}
    for source, target in zip(inputs, targets):
        key = os.path.realpath(target)
        if key in owners:
            raise UsageError(f"{owners[key]} and {source} would both write {target}")
        owners[key] = source
    return list(targets)


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """A unified diff that marks a missing final newline the way diff(1) does."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n")
            lines.append("\\ No newline at end of file\n")
    return "".join(lines)


def write_stdout(text: str) -> None:
    """Write `text` to stdout as UTF-8 with `\\n` newlines on every platform."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


def dump_stages_to_stderr(display: str) -> StageDump:
    """A `dump_stages` callback printing each stage's code on stderr."""

    def dump(stage: str, code: str) -> None:
        print(f"# ---- {display}: after {stage} ----", file=sys.stderr)
        sys.stderr.write(code if code.endswith("\n") else code + "\n")

    return dump


def process(source: Path, target: Path | None, settings: Settings, report: Report) -> Outcome:
    """Generate the output of one forward file and write, print or compare it."""
    display = str(source)
    source_bytes = source.read_bytes()
    source_text = files.decode_source(source_bytes, display)
    cells = None
    if notebook.is_notebook(display):
        cells = notebook.assemble(source_text, display, target.stem if target is not None else None)
    if cells is not None:
        source_text = cells.source
    if is_generated(source_text) and not settings.allow_generated:
        report.note(f"skipped {display}: generated by codegen")
        return Outcome.SKIPPED
    existing = None
    if target is not None:
        if target.is_dir():
            report.error(f"error: {target} is a directory, not an output file")
            return Outcome.FAILED
        existing = files.read_existing(target)
        if existing is not None and not files.is_generated_bytes(existing):
            report.problem(_refusal(target, existing, "it was not generated by codegen"))
            return Outcome.FAILED
    try:
        new_text = _generate(source_text, display, settings, cells)
    except NoForwardFunctions:
        report.note(f"skipped {display}: no forward functions")
        return Outcome.SKIPPED
    new = new_text.encode("utf-8")
    if target is None:
        report.stdout(new_text)
        return Outcome.PRINTED
    learnt = (cache.digest(source_bytes), cache.digest(new))
    if existing == new:
        report.learnt = learnt
        report.detail(f"{target} is up to date")
        return Outcome.UP_TO_DATE if settings.check or settings.diff else Outcome.UNCHANGED
    if settings.check or settings.diff:
        if settings.diff:
            old_text = "" if existing is None else existing.decode("utf-8", "replace")
            old_name = "/dev/null" if existing is None else str(target)
            report.stdout(unified_diff(old_text, new_text, old_name, str(target)))
        report.note(f"would regenerate {target}")
        return Outcome.STALE
    try:
        files.write_atomic(target, new, existing)
    except files.NotGenerated:
        now = files.read_existing(target) or b""
        report.problem(_refusal(target, now, "a file not generated by codegen appeared there while it ran"))
        return Outcome.FAILED
    except OSError as exc:
        report.error(f"error: cannot write {target}: {exc.strerror or exc}")
        return Outcome.FAILED
    report.note(f"wrote {target}")
    report.learnt = learnt
    return Outcome.WRITTEN


def _refusal(target: Path, existing: bytes, why: str) -> Problem:
    """CG503: an output path holds a file codegen did not write."""
    first = existing.decode("utf-8", "replace").partition("\n")[0]
    message = f"refusing to overwrite {target}: {why} (move it away or choose another output with -o)"
    return Problem(str(target), 1, 1, message, first)


def _header_problem(path: Path, text: str, line: int, message: str) -> Problem:
    """A problem with a generated module, at a line of its header."""
    lines = text.split("\n")
    return Problem(str(path), line, 1, message, lines[line - 1] if line <= len(lines) else "")


def _generate(source_text: str, display: str, settings: Settings, cells: Assembled | None) -> str:
    """The generated module for one input; a notebook's problems are put at their cells."""
    try:
        return generate(
            source_text,
            filename=display,
            functions=settings.functions,
            wrt=settings.wrt,
            line_length=settings.line_length,
            target_versions=settings.target_versions,
            style=settings.style,
            return_value=settings.return_value,
            mode=settings.mode,
            allow_generated=settings.allow_generated,
            assert_shapes=settings.assert_shapes,
            src=settings.src,
            dump_stages=dump_stages_to_stderr(display) if settings.dump_stages else None,
        )
    except CodegenError as exc:
        if cells is None:
            raise
        raise notebook.cell_of(cells, exc, display) from None


def generated_source(path: Path, text: str, pattern: str) -> Path | None:
    """The forward file that writes the generated module `path` under the output
    `pattern`: the one its header names, where the pattern puts `path`; None
    when `path` is not where that file's output goes."""
    name = generated_from(text)
    if name is None or not name.endswith((".py", ".ipynb")):
        return None
    relative = Path(pattern.format(stem=name.rsplit(".", 1)[0]))
    if relative.is_absolute():
        return None
    parts = Path(os.path.normpath(path)).parts
    wanted = Path(os.path.normpath(relative)).parts
    if len(parts) < len(wanted) or parts[len(parts) - len(wanted) :] != wanted or ".." in wanted:
        return None
    return Path(*parts[: len(parts) - len(wanted)]) / name if len(parts) > len(wanted) else Path(name)


def sort_generated(inputs: Sequence[Path], settings: Settings, report: Report) -> list[Path]:
    """The inputs with each generated module among them replaced by its forward
    file, which regenerates (or, with --check, compares) it; a generated module
    whose forward file is gone, or that is not where its forward file's output
    goes, is an orphan: an error. An edit by hand is reported."""
    pattern = settings.output or config.DEFAULT_OUTPUT
    if settings.allow_generated or "{" not in pattern or Path(pattern.format(stem="x")).is_absolute():
        return list(inputs)  # -o PATH, -o - or outputs elsewhere: skipped as they come
    kept: list[Path] = []
    seen = {os.path.realpath(p) for p in inputs}
    for path in inputs:
        try:
            head = path.read_bytes()
        except OSError:
            kept.append(path)
            continue
        if not files.is_generated_bytes(head):
            kept.append(path)
            continue
        text = head.decode("utf-8", "replace")
        if edited(text):
            message = "edited by hand: the code no longer matches the sha256 in its header"
            report.problem(_header_problem(path, text, hash_line(text), message))
        source = generated_source(path, text, pattern)
        if source is None or not source.is_file():
            name = generated_from(text) or "an unnamed file"
            where = f"{source} is gone" if source is not None else f"{pattern} does not name this file for it"
            orphan = _header_problem(
                path, text, 1, f"orphaned output: generated from {name}, but {where} (delete it, or restore its source)"
            )
            if report.ignores(orphan.code):
                report.detail(f"skipped {path}: an orphan, but {orphan.code} is ignored")
                report.outcomes.append(Outcome.SKIPPED)
            else:
                report.problem(orphan)
                report.outcomes.append(Outcome.FAILED)
        elif os.path.realpath(source) in seen:
            report.note(f"skipped {path}: generated by codegen")
            report.outcomes.append(Outcome.SKIPPED)
        else:
            seen.add(os.path.realpath(source))
            kept.append(source)
    return kept


def run_job(job: tuple[Path, Path | None, Settings]) -> tuple[Outcome, list[tuple[str, object]], tuple[str, str] | None]:
    """Process one input with a report of its own (in a worker process, or
    not): its outcome, its messages in order, and what the cache learns."""
    source, target, settings = job
    report = Report(settings, events=[])
    try:
        outcome = process(source, target, settings, report)
    except CodegenError as exc:
        for problem in exc.problems:
            report.problem(problem)
        outcome = Outcome.FAILED
    except OSError as exc:
        report.error(f"error: {exc.filename or source}: {exc.strerror or exc}")
        outcome = Outcome.FAILED
    except Exception:
        report.error(f"error: internal error while processing {source}:")
        report.error(traceback.format_exc().rstrip())
        report.error(
            "This is a bug in codegen. Please report it with the input file and "
            "the output of `codegen --dump-stages` on it."
        )
        outcome = Outcome.CRASHED
    assert report.events is not None
    return outcome, report.events, report.learnt


def process_all(inputs: Sequence[Path], settings: Settings, report: Report) -> None:
    """Process every input, reporting each failure and carrying on with the rest.

    Inputs the cache knows to be up to date are skipped; the others are
    differentiated in parallel, and their messages shown in the inputs' order."""
    inputs = sort_generated(inputs, settings, report)
    targets = plan_outputs(inputs, settings)
    known = cache.Cache.for_settings(settings.shaping(), settings.src) if settings.cache and settings.output != "-" else None
    cached = [known is not None and target is not None and known.fresh(source, target) for source, target in zip(inputs, targets)]
    todo = [(source, target, settings) for (source, target), hit in zip(zip(inputs, targets), cached) if not hit]
    with jobs.ordered(run_job, todo, 1 if settings.dump_stages else settings.workers) as done:
        for source, target, hit in zip(inputs, targets, cached):
            if hit:
                report.detail(f"{target} is up to date (cached)")
                outcome = Outcome.UP_TO_DATE if settings.check or settings.diff else Outcome.UNCHANGED
            else:
                outcome, events, learnt = next(done)
                report.replay(events)
                if learnt is not None and known is not None and target is not None:
                    known.record(source, target, *learnt)
            report.outcomes.append(outcome)
    if known is not None:
        known.save()


def run(args: argparse.Namespace) -> int:
    """Run the command for parsed arguments and return the exit code."""
    if "-" in args.inputs:
        return run_stdin(args)
    if args.stdin_filename is not None:
        raise UsageError("--stdin-filename goes with the input '-' (standard input)")
    # The configuration applies to the files named and to those in the directories.
    named = [Path(name) / "-" if Path(name).is_dir() else Path(name) for name in args.inputs]
    try:
        cfg = config.load(named)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    inputs = check_inputs(args.inputs, args.exclude or cfg.exclude, args.extend_exclude or cfg.extend_exclude)
    if not inputs:
        print("No Python files are present to be differentiated. Nothing to do.", file=sys.stderr)
        return 0
    try:
        settings = resolve_settings(args, cfg)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.output_format in ("github", "json") and (settings.output == "-" or settings.diff):
        raise UsageError(f"--output-format {args.output_format} writes to standard output, as -o - and --diff do")
    report = Report(settings, output_format=args.output_format)
    for message in cfg.notes:
        report.detail(message)
    report.detail(f"line length {settings.line_length}, from {_line_length_source(args, cfg)}")
    process_all(inputs, settings, report)
    if settings.output != "-":
        report.note(report.summary())
    report.finish()
    return report.exit_code()


def _line_length_source(args: argparse.Namespace, cfg: config.Config) -> str:
    """Where the line length came from, for -v: the flag, a table, or the default."""
    if args.line_length:
        return "-l/--line-length"
    for value, table, path in (
        (cfg.line_length, "[tool.codegen]", cfg.codegen_file),
        (cfg.black_line_length, "[tool.black]", cfg.black_file),
        (cfg.ruff_line_length, "[tool.ruff]" if cfg.ruff_file and cfg.ruff_file.name == "pyproject.toml" else "ruff's settings", cfg.ruff_file),
    ):
        if value is not None:
            return f"{table} in {path}"
    return "the default"


def run_stdin(args: argparse.Namespace) -> int:
    """`codegen -`: the forward module from standard input, the output on stdout;
    `--stdin-filename` names it in messages and the header, and the search for
    the configuration starts beside it."""
    if args.inputs != ["-"]:
        raise UsageError("'-' (standard input) is the only input when given")
    name = args.stdin_filename
    try:
        cfg = config.load([Path(name)] if name else [Path("-")])
        settings = resolve_settings(args, cfg)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    if settings.check or settings.diff or settings.output not in (None, "-") and args.output is not None:
        raise UsageError("standard input is written to standard output: no --check, --diff or -o")
    if args.output_format in ("github", "json"):
        raise UsageError(f"--output-format {args.output_format} writes to standard output, where the code goes with '-'")
    report = Report(settings, output_format=args.output_format)
    for message in cfg.notes:
        report.detail(message)
    display = name or "-"
    try:
        text = files.decode_source(sys.stdin.buffer.read(), display)
        if is_generated(text) and not settings.allow_generated:
            report.error(f"error: {display} is generated by codegen (--allow-generated to differentiate it again)")
            return 1
        code = _generate(text, display, settings, None)
    except CodegenError as exc:
        for problem in exc.problems:
            report.problem(problem)
        report.finish()
        return 1
    write_stdout(code)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `codegen` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return run(args)
    except UsageError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codegen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception:
        traceback.print_exc()
        print(
            "codegen: internal error. This is a bug in codegen; please report it "
            "with the command line and input that caused it.",
            file=sys.stderr,
        )
        return 123
