"""Inputs differentiated in parallel across the machine's cores, as black does.

`ordered` runs a function over jobs in a pool of worker processes and yields
the results in the jobs' order, so that messages come out the same whatever
the number of workers. Where processes cannot be started (some sandboxes
forbid the semaphores a pool needs), the jobs run one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def ordered(function: Callable[[Job], Result], jobs: Sequence[Job], workers: int) -> Iterator[Result]:
    """`function` of each job, in order; in `workers` processes when that helps."""
    if workers <= 1 or len(jobs) <= 1:
        yield from map(function, jobs)
        return
    try:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)))
    except (OSError, NotImplementedError, ImportError):
        yield from map(function, jobs)
        return
    with pool:
        try:
            yield from pool.map(function, jobs)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
