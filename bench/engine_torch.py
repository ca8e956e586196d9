"""PyTorch peer for bench/engine.R: one WGAN-LP critic step.

Critic 2 -> 128 -> 128 -> 128 -> 1 (ReLU), batch 512: forward on real and
fake, LP penalty at interpolates (double backward), Adam step. Prints
"torch_ms_per_step <threads> <ms>" for each thread count asked for.
Run with Debian's python3-torch; install libopenblas0-pthread first so torch
uses OpenBLAS rather than the reference BLAS.
"""
import sys
import time

import torch


def critic_step(critic, opt, real, fake, lam=10.0):
    opt.zero_grad(set_to_none=True)
    t = torch.rand(real.shape[0], 1)
    xh = (t * real + (1 - t) * fake).requires_grad_(True)
    g, = torch.autograd.grad(critic(xh).sum(), xh, create_graph=True)
    excess = (g.norm(2, dim=1) - 1).clamp(min=0)
    loss = -(critic(real).mean() - critic(fake).mean()) + lam * (excess ** 2).mean()
    loss.backward()
    opt.step()
    return loss


def main():
    threads = [int(a) for a in sys.argv[1:]] or [1, 2]
    reps = 200
    torch.manual_seed(1)
    for nt in threads:
        torch.set_num_threads(nt)
        critic = torch.nn.Sequential(
            torch.nn.Linear(2, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 1))
        opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
        real = torch.randn(512, 2)
        fake = torch.randn(512, 2) + 1
        for _ in range(20):
            critic_step(critic, opt, real, fake)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                critic_step(critic, opt, real, fake)
            best = min(best, (time.perf_counter() - t0) / reps * 1e3)
        print(f"torch_ms_per_step {nt} {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
