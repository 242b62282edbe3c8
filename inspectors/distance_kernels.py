"""Compiled loops of hash_copies.py: the pairs of hashes within a few bits, and the mean |difference| (or RMS
difference) of two appearance vectors for each candidate pair. In numpy the first took a pass of array operations
per neighbour distance and a sort of every pair found, and the second gathered both vectors into temporaries
first; in a crowd of look-alikes (millions of candidate pairs) those were most of the duplicate inspector's hash
step. Compiled on first use and cached beside this file, like align_kernels.py; the scan workers never import it.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def pair_distance(app, i, j, out, squared):
    """out[p] = mean |app[i[p]] - app[j[p]]| for each pair p; with `squared`, the root mean square instead."""
    d = app.shape[1]
    for p in range(len(i)):
        x, y = app[i[p]], app[j[p]]
        total = np.float32(0.0)
        if squared:
            for k in range(d):
                total += (x[k] - y[k]) * (x[k] - y[k])
            out[p] = np.sqrt(total / d)
        else:
            for k in range(d):
                total += abs(x[k] - y[k])
            out[p] = total / d


@njit(cache=True, nogil=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True, nogil=True)
def block_pairs(h, radius, order, position, run_end, crowded, shifts, masks, block, window, out):
    """The pairs of hashes `h` (uint64) within `radius` bits that meet in block `block`'s sorted order (`order`;
    `position[e]` each hash's place in block e's, `run_end` where each place's run of equal block values ends,
    `crowded[e]` whether a hash's run in block e is crowded: there it meets its `window` successors only), and
    that no earlier block met: each pair once. With `out` empty only counts them; else writes each pair's
    key, min * len(h) + max, there."""
    found = 0
    n = len(order)
    for p in range(n):
        a = order[p]
        last = run_end[p] - 1
        if crowded[block, a]:
            last = min(last, p + window)
        for q in range(p + 1, last + 1):
            c = order[q]
            x = h[a] ^ h[c]
            if _popcount(x) > radius:
                continue
            met = False
            for e in range(block):  # the same value in block e: met there, unless its run there was crowded and
                # the two too far apart in it
                if (x >> shifts[e]) & masks[e] == 0:
                    met = met or not crowded[e, a] or abs(position[e, a] - position[e, c]) <= window
            if met:
                continue
            if len(out):
                out[found] = min(a, c) * n + max(a, c)
            found += 1
    return found


@njit(cache=True, nogil=True)
def sorted_keys(keys):
    """keys (non-negative int64) sorted: a radix sort, 16 bits a pass, as many passes as the largest key needs."""
    top = keys.max() if len(keys) else 0
    out, spare = keys.copy(), np.empty_like(keys)
    shift = 0
    while (top >> shift) > 0:
        counts = np.zeros((1 << 16) + 1, np.int64)
        for v in out:
            counts[((v >> shift) & 0xFFFF) + 1] += 1
        for d in range(1 << 16):
            counts[d + 1] += counts[d]
        for v in out:
            d = (v >> shift) & 0xFFFF
            spare[counts[d]] = v
            counts[d] += 1
        out, spare = spare, out
        shift += 16
    return out


@njit(cache=True, nogil=True)
def split_keys(keys, h):
    """(i, j, bits apart) of each pair key (i * len(h) + j) of hashes `h`."""
    n = len(h)
    i, j, bits = np.empty(len(keys), np.int64), np.empty(len(keys), np.int64), np.empty(len(keys), np.int64)
    for p in range(len(keys)):
        i[p], j[p] = keys[p] // n, keys[p] % n
        bits[p] = _popcount(h[i[p]] ^ h[j[p]])
    return i, j, bits
