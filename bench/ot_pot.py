"""Peer of bench/ot.R: exact W_p with POT's ot.emd2 (network simplex).

Reads the two point clouds that bench/ot.R wrote (CSV, one point per row),
times the cost matrix plus ot.emd2, best of `reps`, and prints one line per p:
    pot p=<p> distance=<W_p> ms=<total> emd_ms=<emd2 alone> peak_mb=<MB>
peak_mb: the process's peak resident memory (ru_maxrss) minus its value
before the first solve.
Usage: ot_pot.py X.csv Y.csv [reps] [p ...]   (p: 1 and 2 by default)
"""
import resource
import sys
import time

import numpy as np
import ot


def costs(x, y, p):
    # |x_i - y_j|^p from the differences (not |x|^2 + |y|^2 - 2xy), as wgflow does
    sq = np.zeros((x.shape[0], y.shape[0]))
    for k in range(x.shape[1]):
        sq += np.subtract.outer(x[:, k], y[:, k]) ** 2
    return np.sqrt(sq) if p == 1 else sq if p == 2 else sq ** (p / 2)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    x = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    y = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    ps = [float(p) for p in sys.argv[4:]] or [1.0, 2.0]
    a = np.full(x.shape[0], 1.0 / x.shape[0])
    b = np.full(y.shape[0], 1.0 / y.shape[0])
    base = peak_mb()
    for p in ps:
        best = best_emd = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            m = costs(x, y, p)
            t1 = time.perf_counter()
            value = ot.emd2(a, b, m, numItermax=1_000_000_000)
            t2 = time.perf_counter()
            best = min(best, t2 - t0)
            best_emd = min(best_emd, t2 - t1)
            del m
        print(f"pot p={p:g} distance={value ** (1 / p):.17g} ms={best * 1e3:.3f} "
              f"emd_ms={best_emd * 1e3:.3f} peak_mb={peak_mb() - base:.1f}", flush=True)


if __name__ == "__main__":
    main()
