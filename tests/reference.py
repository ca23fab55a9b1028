#!/usr/bin/env python3
"""pimc-omp's streams in plain Python: an independent check of its hit counts.

Throw i (0-based) takes block j = i // 2 of the generator; an even i takes
output words 0 and 1 as (x, y), an odd i words 2 and 3; the throw hits iff
x*x + y*y < 2**64. The block is
  philox (default): Philox4x32-10 with counter (j mod 2**32, j // 2**32, 0, 0)
    and key (seed mod 2**32, seed // 2**32);
  ars: Random123's ars4x32_R(5, counter, key), counter (j mod 2**32,
    j // 2**32, 0, 0), key (seed mod 2**32, seed // 2**32, 0, 0): the key XORed
    in, 4 AES rounds and a last one (FIPS-197), the key's two 64-bit halves
    bumped by 0x9E3779B97F4A7C15 and 0xBB67AE8584CAA73B before each.

    tests/reference.py [--rng philox|ars] THROWS [SEED [FIRST]]   ->  prints the hits
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


# ---- AES (FIPS-197), computed from its definition rather than copied ----------------------

def gf_mul(a, b):
    product = 0
    while b:
        if b & 1:
            product ^= a
        a = ((a << 1) ^ (0x11B if a & 0x80 else 0)) & 0xFF
        b >>= 1
    return product


def make_sbox():
    inverse = [0] * 256
    for a in range(1, 256):
        inverse[a] = next(b for b in range(1, 256) if gf_mul(a, b) == 1)
    rotl = lambda v, n: ((v << n) | (v >> (8 - n))) & 0xFF
    return [v ^ rotl(v, 1) ^ rotl(v, 2) ^ rotl(v, 3) ^ rotl(v, 4) ^ 0x63 for v in inverse]


SBOX = make_sbox()
AW0, AW1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B  # ARS key increments
MASK64 = (1 << 64) - 1


def aes_round(state, key, last):
    """state, key: 16 bytes; byte 4c + r is row r of column c."""
    t = [SBOX[state[4 * ((c + r) % 4) + r]] for c in range(4) for r in range(4)]
    if not last:
        mixed = []
        for c in range(4):
            a = t[4 * c:4 * c + 4]
            mixed += [gf_mul(a[r], 2) ^ gf_mul(a[(r + 1) % 4], 3) ^ a[(r + 2) % 4] ^ a[(r + 3) % 4]
                      for r in range(4)]
        t = mixed
    return [x ^ k for x, k in zip(t, key)]


def ars4x32(counter, key, rounds=5):
    """counter, key: 128-bit integers (word 0 least significant); returns four 32-bit words."""
    to_bytes = lambda v: list(v.to_bytes(16, "little"))
    state = [a ^ b for a, b in zip(to_bytes(counter), to_bytes(key))]
    lo, hi = key & MASK64, key >> 64
    for r in range(1, rounds + 1):
        lo, hi = (lo + AW0) & MASK64, (hi + AW1) & MASK64
        state = aes_round(state, to_bytes(hi << 64 | lo), r == rounds)
    out = int.from_bytes(bytes(state), "little")
    return tuple((out >> (32 * w)) & MASK for w in range(4))


def block(rng, seed, j):
    if rng == "ars":
        return ars4x32(j, seed)
    return philox4x32_10((j & MASK, j >> 32, 0, 0), (seed & MASK, seed >> 32))


def hits(throws, seed=1, first=0, rng="philox"):
    count = 0
    for i in range(first, first + throws):
        w = block(rng, seed, i // 2)
        x, y = (w[0], w[1]) if i % 2 == 0 else (w[2], w[3])
        count += x * x + y * y < 2**64
    return count


if __name__ == "__main__":
    assert philox4x32_10((0, 0, 0, 0), (0, 0)) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    # Random123's kat_vectors, ars4x32 with 10 rounds, counter 0 and key 0.
    assert ars4x32(0, 0, rounds=10) == (0x8D73EE19, 0x506401EF, 0x13C2DBE4, 0x0CBE9C0D)
    args = sys.argv[1:]
    rng = "philox"
    if len(args) >= 2 and args[0] == "--rng" and args[1] in ("philox", "ars"):
        rng, args = args[1], args[2:]
    if not 1 <= len(args) <= 3:
        sys.exit(__doc__)
    print(hits(*[int(a, 0) for a in args], rng=rng))
