"""Compiled loops of vector_join.py: each owner's best distinct partners among a search's hits, the k-th best of
them (copies.crowd_levels), and ranks within groups. In numpy each took several sorts of all the rows (millions in
a crowded set); here the rows are bucketed by owner in two passes, or kept k at a time, and only each owner's few
rows are sorted. Compiled on first use and cached beside this file, like align_kernels.py; the scan workers never
import it.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _buckets(owner, keep, owners):
    """(counts, rows): the kept rows bucketed by owner, each bucket in row order; owner o's rows are
    rows[counts[o]:counts[o + 1]]."""
    counts = np.zeros(owners + 1, np.int64)
    for r in range(len(owner)):
        if keep[r]:
            counts[owner[r] + 1] += 1
    for o in range(owners):
        counts[o + 1] += counts[o]
    fill = counts[:-1].copy()
    rows = np.empty(counts[owners], np.int64)
    for r in range(len(owner)):
        if keep[r]:
            rows[fill[owner[r]]] = r
            fill[owner[r]] += 1
    return counts, rows


@njit(cache=True, nogil=True)
def best_distinct(owner, partner, sims, k, owners):
    """Rows (positions in the arrays) of each owner's k best distinct partners: owners 0..owners-1 in order, each
    owner's best first; a partner once, at its best row; ties by partner, then by row; never the owner itself."""
    counts, rows = _buckets(owner, owner != partner, owners)
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


@njit(cache=True, nogil=True)
def kth_distinct(owner, partner, values, k, owners, missing):
    """Per owner (0..owners-1), the k-th highest of its distinct partners' values, each partner at its highest;
    `missing` where it has fewer than k. One pass keeping each owner's k best so far: a partner's value only
    rises there, and one left out has k others above it."""
    top = np.full((owners, k), -np.inf, np.float32)
    who = np.full((owners, k), -1, np.int64)
    filled = np.zeros(owners, np.int64)
    for r in range(len(owner)):
        o, p, v = owner[r], partner[r], values[r]
        at = -1
        for t in range(filled[o]):
            if who[o, t] == p:
                at = t
        if at < 0:
            if filled[o] < k:
                at = filled[o]
                filled[o] += 1
            elif v > top[o, k - 1]:
                at = k - 1
            else:
                continue
            who[o, at], top[o, at] = p, v
        elif v > top[o, at]:
            top[o, at] = v
        else:
            continue
        while at > 0 and top[o, at] > top[o, at - 1]:  # kept highest first
            top[o, at], top[o, at - 1] = top[o, at - 1], top[o, at]
            who[o, at], who[o, at - 1] = who[o, at - 1], who[o, at]
            at -= 1
    out = np.full(owners, missing, np.float32)
    for o in range(owners):
        if filled[o] == k:
            out[o] = top[o, k - 1]
    return out


@njit(cache=True, nogil=True)
def rank_in_groups(groups, values, n_groups):
    """Each row's rank (0 = highest value) among the rows of its group (0..n_groups-1); ties keep the rows'
    order. Rows are bucketed by group in row order, then each group's few sorted stably."""
    counts, rows = _buckets(groups, np.ones(len(groups), np.bool_), n_groups)
    rank = np.empty(len(groups), np.int64)
    for g in range(n_groups):
        group = rows[counts[g]:counts[g + 1]]
        group = group[np.argsort(-values[group], kind="mergesort")]
        for k in range(len(group)):
            rank[group[k]] = k
    return rank
