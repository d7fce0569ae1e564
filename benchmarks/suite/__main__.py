"""Time the suite: `python -m benchmarks.suite [--quick] [--only NAME ...] [--clock cpu]`.

For every workload: the generated fused backward (library API) and the
hand-written forward + backward are checked equal, then timed interleaved in one
process, the starting one alternating, each repeat calibrated to a few
milliseconds. One BLAS thread: the package sets the variables before numpy loads.
The table gives medians per call, the ratio generated / hand-written, backprop
statements (split style's backward against the hand-written backward) and the
values in the split style's cache against the hand-written cache.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from . import (
    HERE,
    WORKLOADS,
    Workload,
    cache_sizes,
    call_args,
    generated_fused,
    hand_fused,
    mismatch,
    statements,
)


def _calibrate(fn: Callable[[], Any], target: float, clock: Callable[[], float]) -> int:
    timer = timeit.Timer(fn, timer=clock)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target / 5 or number >= 1 << 22:
            break
        number *= 10
    return max(1, round(number * target / elapsed)) if elapsed > 0 else number


def time_pair(
    calls: Sequence[Callable[[], Any]], repeats: int, target: float, clock: Callable[[], float]
) -> list[list[float]]:
    """Seconds per call, one list per callable, the callables taking turns."""
    numbers = [_calibrate(call, target, clock) for call in calls]
    timers = [timeit.Timer(call, timer=clock) for call in calls]
    times: list[list[float]] = [[] for _ in calls]
    for r in range(repeats):
        order = list(range(len(calls)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for k in order:
            times[k].append(timers[k].timeit(numbers[k]) / numbers[k])
    return times


def keep_freed_memory() -> str:
    """Tell glibc to keep freed memory: otherwise every array above the mmap threshold
    costs page faults on each call, as many as the heap's history decides (see
    benchmarks/README.md, "Allocation"); `--malloc default` leaves it alone."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return "allocator left alone (not glibc)"
    m_trim_threshold, m_mmap_threshold = -1, -3
    if mallopt(m_mmap_threshold, 16 << 20) and mallopt(m_trim_threshold, 64 << 20):
        return "glibc keeps freed memory"
    return "allocator left alone (mallopt failed)"


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:7.2f} {unit}"
    return f"{seconds / 1e-9:7.2f} ns"


def _revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "codegen"], cwd=HERE.parent.parent,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return head + (" + uncommitted changes in codegen/" if dirty else "")


def run(workloads: Sequence[Workload], repeats: int, target: float, clock: Callable[[], float]) -> int:
    header = f"{'workload':<18} {'hand-written':>12} {'generated':>12} {'ratio':>7}   {'stmts gen/hand':>14}   {'cache gen/hand':>14}"
    print(header)
    print("-" * len(header))
    ratios, ours_total, theirs_total, failures = [], 0, 0, 0
    for wl in workloads:
        problem = mismatch(wl, small=False)
        if problem is not None:
            print(f"{wl.name:<18} generated gradient is WRONG: {problem}")
            failures += 1
            continue
        args, upstream = wl.inputs(np.random.default_rng(0), False)
        gen_args, hand_args = call_args(wl, args, upstream)
        calls = [partial(hand_fused(wl), *hand_args), partial(generated_fused(wl), *gen_args)]
        theirs_t, ours_t = (statistics.median(t) for t in time_pair(calls, repeats, target, clock))
        ratio = ours_t / theirs_t
        ratios.append(ratio)
        ours_n, theirs_n = statements(wl)
        ours_total, theirs_total = ours_total + ours_n, theirs_total + theirs_n
        ours_c, theirs_c = cache_sizes(wl)
        print(
            f"{wl.name:<18} {_fmt(theirs_t):>12} {_fmt(ours_t):>12} {ratio:6.2f}x"
            f"   {ours_n:>6} / {theirs_n:<5}   {ours_c:>6} / {theirs_c:<5}"
        )
    print("-" * len(header))
    if ratios:
        geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"generated / hand-written, geomean over {len(ratios)} workloads: {geomean:.2f}x (worst {max(ratios):.2f}x)")
        print(f"backprop statements, generated / hand-written: {ours_total} / {theirs_total} = {ours_total / theirs_total:.2f}x")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--only", action="append", metavar="NAME", help="a workload (repeatable)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu", help="cpu: process time (default)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--malloc", choices=("keep", "default"), default="keep", help="keep: glibc keeps freed memory")
    options = parser.parse_args(argv)
    chosen = [wl for wl in WORKLOADS if not options.only or wl.name in options.only]
    if not chosen:
        parser.error(f"no workload named {options.only}; the workloads: {', '.join(w.name for w in WORKLOADS)}")
    clock = time.process_time if options.clock == "cpu" else time.perf_counter
    repeats = options.repeats or (7 if options.quick else 21)
    target = 0.002 if options.quick else 0.005
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    memory = keep_freed_memory() if options.malloc == "keep" else "allocator left alone"
    print(
        f"codegen {_revision()}; numpy {np.__version__}; python {sys.version.split()[0]};"
        f" OPENBLAS_NUM_THREADS={threads}; {options.clock} clock, median of {repeats} interleaved repeats; {memory}"
    )
    return run(chosen, repeats, target, clock)


if __name__ == "__main__":
    sys.exit(main())
