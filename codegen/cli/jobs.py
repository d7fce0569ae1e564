"""Inputs differentiated in parallel across the machine's cores, as black does.

`ordered` runs a function over jobs in a pool of worker processes and gives
the results in the jobs' order, so that messages come out the same whatever
the number of workers. Where processes cannot be started (some sandboxes
forbid the semaphores a pool needs), the jobs run one after another. The pool
is always shut down and joined on leaving the `with` block: a pool left to the
interpreter's exit races its own clean-up (an `OSError` at exit on Python 3.11).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


@contextmanager
def ordered(function: Callable[[Job], Result], jobs: Sequence[Job], workers: int) -> Iterator[Iterator[Result]]:
    """`function` of each job, in order; in `workers` processes when that helps."""
    if workers <= 1 or len(jobs) <= 1:
        yield map(function, jobs)
        return
    try:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)))
    except (OSError, NotImplementedError, ImportError):
        yield map(function, jobs)
        return
    try:
        yield pool.map(function, jobs)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
