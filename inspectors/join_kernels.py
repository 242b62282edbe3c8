"""Compiled loop of vector_join.py: each owner's best distinct partners among a search's hits. In numpy it took
four stable sorts of all the hits (millions in a crowded set); here the hits are bucketed by owner in two passes
and only each owner's few hits are sorted. Compiled on first use and cached beside this file, like
align_kernels.py; the scan workers never import it.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def best_distinct(owner, partner, sims, k, owners):
    """Rows (positions in the arrays) of each owner's k best distinct partners: owners 0..owners-1 in order, each
    owner's best first; a partner once, at its best row; ties by partner, then by row; never the owner itself."""
    counts = np.zeros(owners + 1, np.int64)
    for r in range(len(owner)):
        if owner[r] != partner[r]:
            counts[owner[r] + 1] += 1
    for o in range(owners):
        counts[o + 1] += counts[o]
    fill = counts[:-1].copy()
    rows = np.empty(counts[owners], np.int64)
    for r in range(len(owner)):  # bucketed by owner, each bucket in row order
        if owner[r] != partner[r]:
            rows[fill[owner[r]]] = r
            fill[owner[r]] += 1
    out = np.empty(min(len(rows), owners * k), np.int64)
    chosen = np.empty(k, np.int64)
    m = 0
    for o in range(owners):
        group = rows[counts[o]:counts[o + 1]]
        if not len(group):
            continue
        group = group[np.argsort(partner[group], kind="mergesort")]  # stable: by partner, then row
        group = group[np.argsort(-sims[group], kind="mergesort")]  # best first, then by partner, then row
        c = 0
        for r in group:  # the first row of a partner is its best
            seen = False
            for t in range(c):
                seen = seen or partner[chosen[t]] == partner[r]
            if not seen:
                chosen[c] = r
                c += 1
                if c == k:
                    break
        out[m:m + c] = chosen[:c]
        m += c
    return out[:m]
