"""PyTorch peer for bench/w1fe.R: W1-FE-LP (Malik & Huang, Algorithm 1).

The 2-D workload: 3 x 128 ReLU critic and generator, batch 512, 10 critic
steps with the LP penalty (lambda 10), Euler step eps = 1, K = 3 regression
steps, Adam(1e-4) for both, latent = data dimension. Data are read from a
CSV (written by bench/w1fe.R, so both train on the same points). Prints
"torch_ms_per_epoch <threads> <ms>" and writes eval_n generated samples
after the run to the given path, for the exact W1 computed in R.

usage: w1fe_torch.py data.csv samples.csv epochs eval_n threads
"""
import sys
import time

import numpy as np
import torch

from engine_torch import critic_step  # the same WGAN-LP critic step


def mlp(d_in, d_out):
    return torch.nn.Sequential(
        torch.nn.Linear(d_in, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, d_out))


def epoch(data, critic, gen, opt_c, opt_g, m=512, n_critic=10, eps=1.0, K=3):
    d = data.shape[1]
    for _ in range(n_critic):
        real = data[torch.randint(0, data.shape[0], (m,))]
        with torch.no_grad():
            fake = gen(torch.randn(m, d))
        critic_step(critic, opt_c, real, fake)
    z = torch.randn(m, d)
    y = gen(z).detach().requires_grad_(True)
    g, = torch.autograd.grad(critic(y).sum(), y)
    zeta = (y + eps * g).detach()   # up the critic's gradient, towards the data
    for _ in range(K):
        opt_g.zero_grad(set_to_none=True)
        loss = ((gen(z) - zeta) ** 2).sum(dim=1).mean()
        loss.backward()
        opt_g.step()


def main():
    data_path, out_path, epochs, eval_n, threads = sys.argv[1:6]
    epochs, eval_n, threads = int(epochs), int(eval_n), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    data = torch.tensor(np.loadtxt(data_path, delimiter=","), dtype=torch.float32)
    d = data.shape[1]
    critic, gen = mlp(d, 1), mlp(d, d)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-4)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4)
    for _ in range(3):
        epoch(data, critic, gen, opt_c, opt_g)
    t0 = time.perf_counter()
    for _ in range(epochs - 3):
        epoch(data, critic, gen, opt_c, opt_g)
    ms = (time.perf_counter() - t0) / (epochs - 3) * 1e3
    print(f"torch_ms_per_epoch {threads} {ms:.4f}", flush=True)
    with torch.no_grad():
        samples = gen(torch.randn(eval_n, d)).numpy()
    np.savetxt(out_path, samples, delimiter=",")


if __name__ == "__main__":
    main()
