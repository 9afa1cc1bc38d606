"""When Python's cyclic garbage collector runs while planning.

A plan allocates millions of short-lived objects (futures, tasks, outputs) while the heap holds every
registered resource. With the default thresholds (700, 10, 10) the collector ran so often, over a heap
that keeps growing, that it took about 40 % of a 200-model plan (measured, benchmarks/README.md). During a
program run young objects are collected far less often; cycles are still freed.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Thresholds: generation-0 allocations, then generation-1 and generation-2 collections.
RUN_GC_THRESHOLDS = (200_000, 100, 100)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect with RUN_GC_THRESHOLDS inside, and restore the process's thresholds after.

    Restoring the defaults makes the next collection a full one over everything the run left (seconds
    at hundreds of models): the `mlp` console script, one command per process, keeps RUN_GC_THRESHOLDS
    for its whole life instead (`mlp.cli.entry`)."""
    saved = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
