#!/usr/bin/env python3
"""Monte Carlo pi vectorised with numpy, for the side-by-side (bench/side-by-side).

What a numpy user writes: x and y as arrays from numpy's default generator
(PCG64), the hit test as one array expression, in chunks of 2^22 throws so the
memory stays small. numpy runs this on one core.

    numpy_pi.py THROWS [SEED]   -> one JSON line: throws, threads, hits, pi, seconds, throws_per_s

Timing: the loop over chunks only (not the import of numpy).
"""
import json
import sys
import time

import numpy as np

CHUNK = 1 << 22


def main():
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__)
    throws = int(float(sys.argv[1]))
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) == 3 else 1)
    hits = 0
    start = time.perf_counter()
    for first in range(0, throws, CHUNK):
        n = min(CHUNK, throws - first)
        x = rng.random(n)
        y = rng.random(n)
        hits += int(np.count_nonzero(x * x + y * y <= 1.0))
    seconds = time.perf_counter() - start
    print(json.dumps({"throws": throws, "threads": 1, "hits": hits, "pi": 4.0 * hits / throws,
                      "seconds": seconds, "throws_per_s": throws / seconds}))


if __name__ == "__main__":
    main()
