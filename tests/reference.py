#!/usr/bin/env python3
"""pimc-omp's stream in plain Python: an independent check of its hit counts.

Throw i (0-based) takes Philox4x32-10 block j = i // 2 with counter
(j mod 2**32, j // 2**32, 0, 0) and key (seed mod 2**32, seed // 2**32); an
even i takes output words 0 and 1 as (x, y), an odd i words 2 and 3; the throw
hits iff x*x + y*y < 2**64.

    tests/reference.py THROWS [SEED [FIRST]]   ->  prints the hits
"""
import sys

M0, M1 = 0xD2511F53, 0xCD9E8D57  # Philox multipliers (Random123)
W0, W1 = 0x9E3779B9, 0xBB67AE85  # Weyl key increments
MASK = 0xFFFFFFFF


def philox4x32_10(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return c0, c1, c2, c3


def hits(throws, seed=1, first=0):
    key = (seed & MASK, seed >> 32)
    count = 0
    for i in range(first, first + throws):
        j = i // 2
        w = philox4x32_10((j & MASK, j >> 32, 0, 0), key)
        x, y = (w[0], w[1]) if i % 2 == 0 else (w[2], w[3])
        count += x * x + y * y < 2**64
    return count


if __name__ == "__main__":
    assert philox4x32_10((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    args = [int(a, 0) for a in sys.argv[1:]]
    if not 1 <= len(args) <= 3:
        sys.exit(__doc__)
    print(hits(*args))
