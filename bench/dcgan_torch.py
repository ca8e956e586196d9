"""PyTorch peer for bench/dcgan.R: one WGAN-GP iteration of the DCGAN pair
on 28 x 28 images, batch 64.

Generator: latent 100 -> Linear(6272) -> view(128, 7, 7) -> BatchNorm2d ->
ReLU -> ConvTranspose2d(128, 64, 4, 2, 1) -> BatchNorm2d -> ReLU ->
ConvTranspose2d(64, 1, 4, 2, 1) -> Tanh (wf_dcgan_generator()). Critic:
Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2) -> Conv2d(64, 128, 4, 2, 1) ->
LeakyReLU(0.2) -> Flatten -> Linear(6272, 1) (wf_dcgan_critic()).
An iteration: 5 critic steps (real batch, generated batch, the gradient
penalty at interpolates through the double backward, Adam), then one
generator step (Adam). Prints the torch version, its BLAS / oneDNN
configuration line and "torch_ms_per_iter <threads> <ms>" for each thread
count asked for.
"""
import sys
import time

import torch
from torch import nn


def generator(latent=100, width=64):
    return nn.Sequential(
        nn.Linear(latent, 2 * width * 49), nn.Unflatten(1, (2 * width, 7, 7)),
        nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh(), nn.Flatten())


def critic(width=64):
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * width * 49, 1))


def critic_step(f, g, opt, real, latent, lam=10.0):
    opt.zero_grad(set_to_none=True)
    with torch.no_grad():
        fake = g(torch.randn(real.shape[0], latent))
    t = torch.rand(real.shape[0], 1)
    xh = (t * real + (1 - t) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(f(xh).sum(), xh, create_graph=True)
    pen = lam * ((grad.norm(2, dim=1) - 1) ** 2).mean()
    loss = -(f(real).mean() - f(fake).mean()) + pen
    loss.backward()
    opt.step()


def generator_step(f, g, opt, m, latent):
    opt.zero_grad(set_to_none=True)
    loss = -f(g(torch.randn(m, latent))).mean()
    loss.backward()
    opt.step()


def main():
    threads = [int(a) for a in sys.argv[1:]] or [1, 2]
    print("torch_version", torch.__version__, flush=True)
    keys = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP")
    tokens = torch.__config__.show().replace("Build settings:", ",").replace("\n", ",")
    cfg = [kv.strip() for kv in tokens.split(",") if kv.strip().split("=")[0] in keys]
    print("torch_config", ", ".join(cfg), "; mkldnn available:",
          torch.backends.mkldnn.is_available(), flush=True)
    m, latent, iters = 64, 100, 10
    torch.manual_seed(1)
    real = torch.rand(m, 784) * 2 - 1
    for nt in threads:
        torch.set_num_threads(nt)
        f, g = critic(), generator(latent)
        of = torch.optim.Adam(f.parameters(), lr=1e-4, betas=(0.5, 0.9))
        og = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.9))
        best = float("inf")
        for rep in range(4):
            t0 = time.perf_counter()
            for _ in range(iters):
                for _ in range(5):
                    critic_step(f, g, of, real, latent)
                generator_step(f, g, og, m, latent)
            ms = (time.perf_counter() - t0) / iters * 1e3
            if rep > 0:  # the first is a warm-up
                best = min(best, ms)
        print(f"torch_ms_per_iter {nt} {best:.3f}", flush=True)


if __name__ == "__main__":
    main()
