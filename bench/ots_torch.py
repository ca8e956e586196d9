"""PyTorch peer for bench/ots.R: the semi-discrete assignment of OTS.

For a batch a [B x d] of generated points and data y [N x d] with a dual
vector psi [N], idx_j = argmin_i c(a_j, y_i) - psi_i, in two forms:
  cdist   torch.cdist(a, y, p) (p = 2, squared and halved, or p = 1),
          minus psi, argmin over the data
  matmul  the squared cost's GEMM form: (|y|^2 / 2 - psi) - a @ y.T, argmin
          (what a PyTorch user would write for speed; the L1 cost has none)
Prints "torch <form> <cost> <B> <N> <d> <threads> <ms per call> <device>
<CPU ms per call>" (best of reps calls, wall and process CPU time) for each
thread count asked for.

  python3 bench/ots_torch.py <sq|l1> <B> <N> <d> <reps> <threads...>
WGFLOW_BENCH_DEVICE=cuda runs it on the GPU (timed with synchronisation).
"""
import os
import sys
import time

import torch


def assign_cdist(a, y, psi, cost):
    if cost == "sq":
        c = torch.cdist(a, y, p=2.0).square_().mul_(0.5)
    else:
        c = torch.cdist(a, y, p=1.0)
    return (c - psi).argmin(dim=1)


def assign_matmul(a, y, yh_minus_psi):
    return torch.addmm(yh_minus_psi, a, y.T, alpha=-1.0).argmin(dim=1)


DEVICE = os.environ.get("WGFLOW_BENCH_DEVICE", "cpu")


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def best_ms(fn, reps):
    """best wall and best process-CPU milliseconds of reps calls"""
    fn()
    sync()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best * 1e3, best_cpu * 1e3


def main():
    cost, B, N, d, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    threads = [int(t) for t in sys.argv[6:]] or [1, 2]
    torch.manual_seed(1)
    y = torch.rand(N, d, device=DEVICE) * 2 - 1
    a = torch.rand(B, d, device=DEVICE) * 2 - 1
    psi = torch.rand(N, device=DEVICE) - 0.5
    yh = 0.5 * y.square().sum(dim=1) - psi
    with torch.no_grad():
        for nt in threads:
            torch.set_num_threads(nt)
            ms, cpu = best_ms(lambda: assign_cdist(a, y, psi, cost), reps)
            print(f"torch cdist {cost} {B} {N} {d} {nt} {ms:.4f} {DEVICE} {cpu:.4f}", flush=True)
            if cost == "sq":
                ms, cpu = best_ms(lambda: assign_matmul(a, y, yh), reps)
                print(f"torch matmul {cost} {B} {N} {d} {nt} {ms:.4f} {DEVICE} {cpu:.4f}",
                      flush=True)


if __name__ == "__main__":
    main()
