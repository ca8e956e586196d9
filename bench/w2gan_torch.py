"""PyTorch peer for bench/w2gan.R: W2GAN (Leygonie et al.) with its 2-D
defaults, the same algorithm as wgflow's w2gan() (src/core/algo_w2.c).

Potentials f (generated side) and e, with g = -f + e (the epsilon
reparameterisation), 3 x 128 ReLU, weights N(0, 0.1^2), biases 0; the
generator G(z) = z + H(z), H 3 x 128 Linear + BatchNorm + ReLU, Linear
weights and BatchNorm gamma N(0, 0.01^2), biases and beta 0. Per iteration:
5 critic steps on fresh batches of 512 (data rows and source rows drawn
with replacement), each maximising mean f(a) + mean g(b) minus
  200 mean max(0, f(a) + g(b) - |a - b|^2 / 2)^2           (pairs)
  200 mean max(0, f(at) + g(bt) - |at - bt|^2 / 2)^2       (interpolates
      at = s1 a + (1 - s1) b[i+1], bt = s2 b + (1 - s2) a[i+1])
  200 mean (f(a) + g(a - grad f(a)) - |grad f(a)|^2 / 2)^2   (equality,
  200 mean (f(b - grad g(b)) + g(b) - |grad g(b)|^2 / 2)^2    double backward)
with Adam(5e-4, 0.9, 0.999); then one generator step descending
mean f(G(z)) with Adam(1e-4, 0.9, 0.999). Prints
"torch_ms_per_iter <threads> <ms>" and writes G(x) for the held-out
source rows.

Two structures of the same critic loss: "public" evaluates the potentials
as the W2GAN public code does (f(a) and g(b) once for the dual objective
and again, with their gradients, for the equality penalties); "shared"
evaluates f(a), g(b) and their gradients once and uses them for both, as
wgflow does.

usage: w2gan_torch.py target.csv source.csv held_source.csv out.csv iters threads [public|shared]
"""
import sys
import time

import numpy as np
import torch


def potential(d):
    net = torch.nn.Sequential(
        torch.nn.Linear(d, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 1))
    for mod in net:
        if isinstance(mod, torch.nn.Linear):
            torch.nn.init.normal_(mod.weight, 0, 0.1)
            torch.nn.init.zeros_(mod.bias)
    return net


class Residual(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        layers = []
        w = d
        for _ in range(3):
            layers += [torch.nn.Linear(w, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU()]
            w = 128
        layers.append(torch.nn.Linear(w, d))
        self.h = torch.nn.Sequential(*layers)
        for mod in self.h:
            if isinstance(mod, torch.nn.Linear):
                torch.nn.init.normal_(mod.weight, 0, 0.01)
                torch.nn.init.zeros_(mod.bias)
            if isinstance(mod, torch.nn.BatchNorm1d):
                torch.nn.init.normal_(mod.weight, 0, 0.01)
                torch.nn.init.zeros_(mod.bias)

    def forward(self, z):
        return z + self.h(z)


def value_and_grad(net, x):
    """net(x) [m] and grad net(x) [m x d], differentiable (double backward)."""
    x = x.requires_grad_(True)
    v = net(x).squeeze(1)
    g, = torch.autograd.grad(v.sum(), x, create_graph=True)
    return v, g


def cost(x, y):
    return 0.5 * ((x - y) ** 2).sum(dim=1)


def interp_penalty(f, g_of, a, b, lam):
    m = a.shape[0]
    s1, s2 = torch.rand(m, 1), torch.rand(m, 1)
    a1, b1 = torch.roll(a, -1, 0), torch.roll(b, -1, 0)
    at, bt = s1 * a + (1 - s1) * b1, s2 * b + (1 - s2) * a1
    r = f(at).squeeze(1) + g_of(bt).squeeze(1) - cost(at, bt)
    return lam * torch.clamp(r, min=0).pow(2).mean()


def critic_loss_shared(f, e, a, b, lam=200.0):
    def g_of(x):
        return -f(x) + e(x)

    fa, pa = value_and_grad(f, a.detach().clone())
    gb, qb = value_and_grad(g_of, b.detach().clone())
    loss = -(fa.mean() + gb.mean())
    loss = loss + lam * torch.clamp(fa + gb - cost(a, b), min=0).pow(2).mean()
    loss = loss + interp_penalty(f, g_of, a, b, lam)
    E = fa + g_of(a.detach() - pa).squeeze(1) - 0.5 * (pa ** 2).sum(dim=1)
    loss = loss + lam * E.pow(2).mean()
    E = f(b.detach() - qb).squeeze(1) + gb - 0.5 * (qb ** 2).sum(dim=1)
    return loss + lam * E.pow(2).mean()


def critic_loss(f, e, a, b, lam=200.0):
    def g_of(x):
        return -f(x) + e(x)

    fa, ga = f(a).squeeze(1), g_of(b).squeeze(1)
    loss = -(fa.mean() + ga.mean())
    loss = loss + lam * torch.clamp(fa + ga - cost(a, b), min=0).pow(2).mean()
    m = a.shape[0]
    s1, s2 = torch.rand(m, 1), torch.rand(m, 1)
    a1, b1 = torch.roll(a, -1, 0), torch.roll(b, -1, 0)
    at, bt = s1 * a + (1 - s1) * b1, s2 * b + (1 - s2) * a1
    r = f(at).squeeze(1) + g_of(bt).squeeze(1) - cost(at, bt)
    loss = loss + lam * torch.clamp(r, min=0).pow(2).mean()
    # equality on the generated side: T(a) = a - grad f(a)
    va, pa = value_and_grad(f, a.detach().clone())
    E = va + g_of(a.detach() - pa).squeeze(1) - 0.5 * (pa ** 2).sum(dim=1)
    loss = loss + lam * E.pow(2).mean()
    # and on the data side: S(b) = b - grad g(b)
    vb, qb = value_and_grad(g_of, b.detach().clone())
    E = f(b.detach() - qb).squeeze(1) + vb - 0.5 * (qb ** 2).sum(dim=1)
    loss = loss + lam * E.pow(2).mean()
    return loss


def main():
    tgt_path, src_path, held_path, out_path, iters, threads = sys.argv[1:7]
    iters, threads = int(iters), int(threads)
    mode = sys.argv[7] if len(sys.argv) > 7 else "public"
    loss_fn = critic_loss_shared if mode == "shared" else critic_loss
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    load = lambda p: torch.tensor(np.loadtxt(p, delimiter=","), dtype=torch.float32)
    x, src, held = load(tgt_path), load(src_path), load(held_path)
    d = x.shape[1]
    f, e, gen = potential(d), potential(d), Residual(d)
    opt_c = torch.optim.Adam(list(f.parameters()) + list(e.parameters()), lr=5e-4,
                             betas=(0.9, 0.999))
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.9, 0.999))
    m = 512

    def iteration():
        for _ in range(5):
            b = x[torch.randint(0, x.shape[0], (m,))]
            with torch.no_grad():
                a = gen(src[torch.randint(0, src.shape[0], (m,))])
            opt_c.zero_grad(set_to_none=True)
            loss_fn(f, e, a, b).backward()
            opt_c.step()
        opt_g.zero_grad(set_to_none=True)
        loss = f(gen(src[torch.randint(0, src.shape[0], (m,))])).mean()
        loss.backward()
        opt_g.step()

    for _ in range(3):
        iteration()
    t0 = time.perf_counter()
    for _ in range(iters - 3):
        iteration()
    ms = (time.perf_counter() - t0) / (iters - 3) * 1e3
    print(f"torch_ms_per_iter {threads} {ms:.4f}", flush=True)
    gen.eval()
    with torch.no_grad():
        np.savetxt(out_path, gen(held).numpy(), delimiter=",")


if __name__ == "__main__":
    main()
