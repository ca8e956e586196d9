"""PyTorch eager peer for bench/gpu_w1fe.c: W1-FE-LP (Malik & Huang,
Algorithm 1) on one GPU, the same two workloads:

  2d     8 Gaussians, critic 2-128-128-128-1 and generator 2-128-128-128-2
         (ReLU), batch 512, 10 critic steps, K = 3
  image  784-dimensional data, critic 784-1024-1024-1 and generator
         784-1024-1024-784 (ReLU), batch 64, 5 critic steps, K = 3

LP penalty (lambda 10), Euler step eps = 1, Adam(1e-4) for both nets, in
float32 (TF32 off, as wgflow's default). Prints one line per workload:
"torch_gpu <workload> <ms per epoch> <epochs timed>".

usage: gpu_torch.py [2d|image ...] [--epochs N]
"""
import math
import sys
import time

import torch

WORKLOADS = {
    "2d": dict(d=2, hidden=[128, 128, 128], m=512, n_critic=10, K=3, epochs=300),
    "image": dict(d=784, hidden=[1024, 1024], m=64, n_critic=5, K=3, epochs=100),
}


def mlp(d_in, hidden, d_out, dev):
    layers, w = [], d_in
    for h in hidden:
        layers += [torch.nn.Linear(w, h), torch.nn.ReLU()]
        w = h
    layers.append(torch.nn.Linear(w, d_out))
    return torch.nn.Sequential(*layers).to(dev)


def eight_gaussians(n, dev):
    k = torch.arange(n, device=dev) % 8
    angle = k.float() * (math.pi / 4)
    centres = 2 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return (centres + 0.02 * torch.randn(n, 2, device=dev)) / 1.414


def critic_step(critic, opt, real, fake, lam=10.0):
    opt.zero_grad(set_to_none=True)
    t = torch.rand(real.shape[0], 1, device=real.device)
    xh = (t * real + (1 - t) * fake).requires_grad_(True)
    g, = torch.autograd.grad(critic(xh).sum(), xh, create_graph=True)
    excess = (g.norm(2, dim=1) - 1).clamp(min=0)
    loss = -(critic(real).mean() - critic(fake).mean()) + lam * (excess ** 2).mean()
    loss.backward()
    opt.step()


def epoch(data, critic, gen, opt_c, opt_g, m, n_critic, K, eps=1.0):
    d = data.shape[1]
    for _ in range(n_critic):
        real = data[torch.randint(0, data.shape[0], (m,), device=data.device)]
        with torch.no_grad():
            fake = gen(torch.randn(m, d, device=data.device))
        critic_step(critic, opt_c, real, fake)
    z = torch.randn(m, d, device=data.device)
    y = gen(z).detach().requires_grad_(True)
    g, = torch.autograd.grad(critic(y).sum(), y)
    zeta = (y + eps * g).detach()
    for _ in range(K):
        opt_g.zero_grad(set_to_none=True)
        loss = ((gen(z) - zeta) ** 2).sum(dim=1).mean()
        loss.backward()
        opt_g.step()


def run(name, w, epochs):
    dev = torch.device("cuda")
    torch.manual_seed(1)
    d = w["d"]
    data = eight_gaussians(20000, dev) if d == 2 else \
        torch.rand(20000, d, device=dev) * 2 - 1
    critic, gen = mlp(d, w["hidden"], 1, dev), mlp(d, w["hidden"], d, dev)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-4)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4)
    args = (data, critic, gen, opt_c, opt_g, w["m"], w["n_critic"], w["K"])
    for _ in range(10):
        epoch(*args)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch(*args)
    torch.cuda.synchronize()
    ms = (time.perf_counter() - t0) / epochs * 1e3
    print(f"torch_gpu {name} {ms:.4f} {epochs}", flush=True)


def main():
    args = sys.argv[1:]
    epochs = None
    if "--epochs" in args:
        i = args.index("--epochs")
        epochs = int(args[i + 1])
        del args[i:i + 2]
    if not torch.cuda.is_available():
        print("torch_gpu unavailable: torch.cuda.is_available() is False", flush=True)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for name in args or list(WORKLOADS):
        w = WORKLOADS[name]
        run(name, w, epochs or w["epochs"])


if __name__ == "__main__":
    main()
