"""Compiled loop of hash_copies.py: the mean |difference| of two appearance vectors for each candidate pair.
In numpy each chunk of pairs gathers both vectors into temporaries first; in a crowd of look-alikes (millions of
candidate pairs) those copies were most of the duplicate inspector's hash step. Compiled on first use and cached
beside this file, like align_kernels.py; the scan workers never import it.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def mean_abs_distance(app, i, j, out):
    """out[p] = mean |app[i[p]] - app[j[p]]| for each pair p."""
    d = app.shape[1]
    for p in range(len(i)):
        x, y = app[i[p]], app[j[p]]
        total = np.float32(0.0)
        for k in range(d):
            total += abs(x[k] - y[k])
        out[p] = total / d
