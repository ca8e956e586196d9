"""PyTorch peer for bench/rwp.R: RWP (Lin, Li, Osher, Montufar, Algorithm 1)
with a WGAN-GP critic.

One outer iteration: 5 critic steps (WGAN-GP, lambda 10, on fresh data rows
and fresh latents), a frozen copy g_prev of the generator, then l = 10
generator steps, each on a fresh z, of
    -mean critic(g(z)) + (1 / (2h)) mean |g(z) - g_prev(z)|^2,   h = 0.1.
3 x 128 ReLU critic and generator, latent 128 (or given), batch 64, Adam(1e-4,
betas (0.5, 0.9)) for both: the workload of bench/rwp.R. The critic's
parameters are frozen during the generator steps (no gradient is kept for
them, as wgflow keeps none).

Data come from a CSV written by bench/rwp.R. Times n_outer - 3 outer
iterations after 3 of warm-up (or as many as fit in 20 s). Prints
"torch_ms_per_outer <threads> <ms>" and writes eval_n samples after the
run to the given path (for the exact W1 computed in R).

usage: rwp_torch.py data.csv samples.csv outer eval_n threads [latent]
"""
import sys
import time

import numpy as np
import torch


def mlp(d_in, d_out):
    return torch.nn.Sequential(
        torch.nn.Linear(d_in, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, d_out))


def critic_step(critic, opt, real, fake, lam=10.0):
    opt.zero_grad(set_to_none=True)
    t = torch.rand(real.shape[0], 1)
    xh = (t * real + (1 - t) * fake).requires_grad_(True)
    g, = torch.autograd.grad(critic(xh).sum(), xh, create_graph=True)
    penalty = lam * ((g.norm(2, dim=1) - 1) ** 2).mean()
    loss = -(critic(real).mean() - critic(fake).mean()) + penalty
    loss.backward()
    opt.step()


def outer(data, critic, gen, g_prev, opt_c, opt_g, latent, m=64, n_critic=5, l=10,
          h=0.1):
    for _ in range(n_critic):
        real = data[torch.randint(0, data.shape[0], (m,))]
        with torch.no_grad():
            fake = gen(torch.randn(m, latent))
        critic_step(critic, opt_c, real, fake)
    with torch.no_grad():  # g_prev := g
        for p, q in zip(gen.parameters(), g_prev.parameters()):
            q.copy_(p)
    critic.requires_grad_(False)
    for _ in range(l):
        z = torch.randn(m, latent)
        y = gen(z)
        with torch.no_grad():
            y_prev = g_prev(z)
        loss = -critic(y).mean() + ((y - y_prev) ** 2).sum(dim=1).mean() / (2 * h)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    critic.requires_grad_(True)


def main():
    data_path, out_path, n_outer, eval_n, threads = sys.argv[1:6]
    n_outer, eval_n, threads = int(n_outer), int(eval_n), int(threads)
    latent = int(sys.argv[6]) if len(sys.argv) > 6 else 128
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    data = torch.tensor(np.loadtxt(data_path, delimiter=","), dtype=torch.float32)
    d = data.shape[1]
    critic, gen, g_prev = mlp(d, 1), mlp(latent, d), mlp(latent, d)
    g_prev.requires_grad_(False)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.5, 0.9))
    for _ in range(3):
        outer(data, critic, gen, g_prev, opt_c, opt_g, latent)
    # at most n_outer - 3 timed iterations, or 20 s (an oversubscribed
    # thread setting can be a hundred times slower)
    t0, done = time.perf_counter(), 0
    while done < n_outer - 3 and time.perf_counter() - t0 < 20:
        outer(data, critic, gen, g_prev, opt_c, opt_g, latent)
        done += 1
    ms = (time.perf_counter() - t0) / done * 1e3
    print(f"torch_ms_per_outer {threads} {ms:.4f}", flush=True)
    with torch.no_grad():
        samples = gen(torch.randn(eval_n, latent)).numpy()
    np.savetxt(out_path, samples, delimiter=",")


if __name__ == "__main__":
    main()
