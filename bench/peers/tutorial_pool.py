#!/usr/bin/env python3
"""The tutorial's Monte Carlo pi, for the side-by-side (bench/side-by-side).

Written for this project from the tutorial's description ("Multiprocessing for
Multicore Systems", High-Performance Python): the throws are divided by hand
into one chunk per process, of roughly equal size, and Pool.map hands one
chunk to each worker; each worker throws its darts with the random module in a
plain Python loop and returns its hits; the main process adds them up. The
process count comes from NUM_PROCS, as in the tutorial, or the second argument.

    tutorial_pool.py THROWS [PROCESSES]   -> one JSON line: throws, threads, hits, pi, seconds, throws_per_s

Timing: the pool's start, the map and its join, as the tutorial's "Parallel
time" is taken; not the interpreter's start-up. Each worker draws from its own
random state: Python reseeds the random module in a forked child (3.7+).
"""
import json
import os
import random
import sys
import time
from multiprocessing import Pool


def pi(num_points):
    """Hits among num_points darts uniform in the unit square."""
    hits = 0
    for _ in range(num_points):
        x = random.random()
        y = random.random()
        if x * x + y * y <= 1.0:
            hits += 1
    return hits


def main():
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__)
    throws = int(float(sys.argv[1]))
    procs = int(sys.argv[2]) if len(sys.argv) == 3 else int(os.environ.get("NUM_PROCS", os.cpu_count() or 1))
    chunks = [throws // procs + (1 if i < throws % procs else 0) for i in range(procs)]
    start = time.perf_counter()
    with Pool(processes=procs) as pool:
        hits = sum(pool.map(pi, chunks))
    seconds = time.perf_counter() - start
    print(json.dumps({"throws": throws, "threads": procs, "hits": hits, "pi": 4.0 * hits / throws,
                      "seconds": seconds, "throws_per_s": throws / seconds}))


if __name__ == "__main__":
    main()
