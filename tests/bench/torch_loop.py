"""torch_loop: the population loop of tests/bench/sim.ini as a PyTorch user would write it.

bench_sim (tests/bench/bench_sim.c) runs this script side by side with quinesim on the same
scenario and prints quinesim births/s / PyTorch births/s. It needs PyTorch (Debian
`python3-torch`; `make bench-deps`); the bench skips it, naming the package, when the
interpreter cannot import torch.

The work, as in the bench scenario (tests/bench/sim.ini with every default resolved):
  - aux quines of the paper's size (core/quine.h): H = 100, two 100 x 100 SELU layers, no
    biases, a weight head (100 -> 1) and a class head (100 -> 10), N = 21,100 parameters in
    ONE flat tensor laid out [W1 (in x out), W2, w_out, W_cls] as quinesim's genome;
  - first layer input = [SELU(Pc[c]) (50), SELU(x Pi) (50)]: a fixed coordinate projection
    Pc (N x 50, N(0, 1)) and a fixed image projection Pi (784 x 50, N(0, 10/784)) of pixels
    x = byte / 255; both halves precomputed once (they never depend on the weights);
  - 24 organisms, uniform(-0.1, 0.1) initial weights; 5 generations (--generations);
  - a life: 200 steps of Adamax (torch.optim.Adamax, lr 0.002, state new each life), each
    step 10 coordinates (a fresh permutation of all N per life) whose targets are the
    weights frozen at the start of the life, on rows (coordinate, zero image half), and 10
    training images (a fresh permutation of the 60,000 per life) on rows (zero coordinate
    half, image); loss = sum of squared errors + 0.01 * summed cross-entropy of logits / 0.01
    (separate pairing, reduce = sum);
  - evaluation after each life: the self-prediction f_theta(C) of all N coordinates with
    the zero image half (one regeneration), its L_SR, relative error and R^2, and the
    accuracy on the fitness set (the first 500 test images, zero coordinate half);
  - selection: the 2 best by accuracy survive and live again; 22 children, each of a parent
    drawn by a tournament of 3 (with replacement); a child is the parent's self-prediction
    (one plain regeneration), its link fidelity against the parent, then mutation (each
    weight with probability 0.01 gets N(0, 0.01^2)); the last generation breeds none;
  - at the end, the best organism's accuracy on the held-out rest of the test split (9,500);
  - births counted as quinesim's generations.csv counts them: founders + children
    (24 + 4 x 22 = 112 for 5 generations), over the wall time of the loop.

Matched: the model, its parameter count and layout, the data, the number and kind of every
product, the steps, batch, images per step, optimizer, loss, regeneration, fidelity figures,
mutation, selection and the number of tasks; single thread (torch.set_num_threads(1),
OpenMP and OpenBLAS threads 1: Debian's torch does its fp32 products on the same OpenBLAS).
Regeneration and evaluation make the same products as quinesim's: the half of the first
layer's input that is zero there (the image half when replicating, the coordinate half when
classifying) is not multiplied, so the ratio compares two implementations of the same
arithmetic, not two algorithms. Training rows are built with torch.cat and go through the
whole first layer (20 x 100 x 100: what a user writes; a negligible share of the work).

Not matched: the random draws (torch's generator, not quinesim's Philox streams: the same
distributions, different numbers, so the two runs evolve different populations); quinesim's
chunking of regeneration into 512 rows (torch multiplies all N rows at once); quinesim's
orchestrator and worker processes, messages, lineage log, checkpoints and run files, which
quinesim's time includes and this loop does without; the time to start Python and import
torch (printed, not counted; quinesim's process start is counted); bf16 (this loop is fp32).

Prints how it ran and, last, a line `torch_loop: births B seconds S births/s R cpu-seconds C
births/cpu-s Q`: births over the wall time and over this process's CPU time (all threads) of the
loop, from loading the data to the end.
"""

import argparse
import gzip
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

T_START = time.monotonic()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

T_IMPORTED = time.monotonic()

H, HC, HI, CLASSES, PIXELS = 100, 50, 50, 10, 784


def read_idx(path):
    """An IDX file (or its .gz) as a uint8 tensor of its dimensions."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim :]), dtype=torch.uint8)
    return data.reshape(dims)


class Species:
    """The fixed physics and the data of one species: projections, features, labels."""

    def __init__(self, data_dir, nfitness, gen):
        self.n = H * H * 2 + H + H * CLASSES  # 21,100
        pc = torch.randn(self.n, HC, generator=gen)
        pi = torch.randn(PIXELS, HI, generator=gen) * (10.0 / PIXELS) ** 0.5
        self.coord_act = F.selu(pc)  # (N, 50)
        train_x = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"))
        self.train_y = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte")).long()
        test_x = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte"))
        test_y = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte")).long()
        self.train_act = F.selu(train_x.reshape(-1, PIXELS).float().div_(255.0) @ pi)
        test_act = F.selu(test_x.reshape(-1, PIXELS).float().div_(255.0) @ pi)
        self.fit_act, self.fit_y = test_act[:nfitness], test_y[:nfitness]
        self.held_act, self.held_y = test_act[nfitness:], test_y[nfitness:]


def views(theta):
    """W1 (100, 100), W2 (100, 100), w_out (100,), W_cls (100, 10) as views of theta."""
    o = 0
    w1 = theta[o : o + H * H].view(H, H)
    o += H * H
    w2 = theta[o : o + H * H].view(H, H)
    o += H * H
    w_out = theta[o : o + H]
    o += H
    w_cls = theta[o : o + H * CLASSES].view(H, CLASSES)
    return w1, w2, w_out, w_cls


@torch.no_grad()
def self_predict(sp, theta):
    """f_theta(C) for all N coordinates, zero image half: (N,)."""
    w1, w2, w_out, _ = views(theta)
    h = F.selu(sp.coord_act @ w1[:HC])
    h = F.selu(h @ w2)
    return h @ w_out


@torch.no_grad()
def accuracy(theta, act, labels):
    """Classification with a zero coordinate half."""
    w1, w2, _, w_cls = views(theta)
    h = F.selu(act @ w1[HC:])
    h = F.selu(h @ w2)
    return ((h @ w_cls).argmax(1) == labels).float().mean().item()


def fidelity(theta, pred):
    """L_SR, relative error, R^2 of pred against theta."""
    sse = ((pred - theta) ** 2).sum().item()
    rel = sse / max((theta**2).sum().item(), 1e-30)
    r2 = 1.0 - sse / max(((theta - theta.mean()) ** 2).sum().item(), 1e-30)
    return sse, rel, r2


def live(sp, theta, args, gen):
    """`steps` Adamax steps on theta in place (batch coordinates + batch images a step)."""
    theta.requires_grad_(True)
    opt = torch.optim.Adamax([theta], lr=2e-3)
    targets = theta.detach().clone()
    coords = torch.randperm(sp.n, generator=gen)
    images = torch.randperm(sp.train_act.shape[0], generator=gen)
    zc = torch.zeros(args.batch, HC)
    zi = torch.zeros(args.batch, HI)
    b = args.batch
    for step in range(args.steps):
        c = coords[(step * b) % sp.n : (step * b) % sp.n + b]
        i = images[step * b : step * b + b]
        x = torch.cat(
            [torch.cat([sp.coord_act[c], zi], 1), torch.cat([zc, sp.train_act[i]], 1)], 0
        )
        w1, w2, w_out, w_cls = views(theta)
        h = F.selu(F.selu(x @ w1) @ w2)
        sr = ((h[:b] @ w_out - targets[c]) ** 2).sum()
        task = F.cross_entropy((h[b:] @ w_cls) / args.temperature, sp.train_y[i], reduction="sum")
        loss = sr + args.lam * task
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    theta.requires_grad_(False)


def evaluate(sp, theta):
    pred = self_predict(sp, theta)
    return fidelity(theta, pred), accuracy(theta, sp.fit_act, sp.fit_y)


def birth(sp, parent, args, gen):
    """The child: the parent's self-prediction, its link fidelity, then mutation."""
    child = self_predict(sp, parent)
    link = fidelity(parent, child)
    mask = torch.rand(sp.n, generator=gen) < args.mutation_rate
    child += mask * (args.mutation_sigma * torch.randn(sp.n, generator=gen))
    return child, link


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--population", type=int, default=24)
    ap.add_argument("--elitism", type=int, default=2)
    ap.add_argument("--tournament", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--fitness", type=int, default=500)
    ap.add_argument("--lam", type=float, default=0.01)
    ap.add_argument("--temperature", type=float, default=0.01)
    ap.add_argument("--mutation-rate", type=float, default=0.01)
    ap.add_argument("--mutation-sigma", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    gen = torch.Generator().manual_seed(args.seed)
    print(
        f"torch_loop: PyTorch {torch.__version__}, {torch.get_num_threads()} thread, "
        f"fp32; python start + import torch {T_IMPORTED - T_START:.2f} s (not counted)"
    )

    t0, c0 = time.monotonic(), time.process_time()
    sp = Species(args.data, args.fitness, gen)
    pop = [(torch.rand(sp.n, generator=gen) * 0.2 - 0.1) for _ in range(args.population)]
    births = len(pop)
    for g in range(args.generations):
        fit = []
        for theta in pop:
            live(sp, theta, args, gen)
            (_, _, r2), acc = evaluate(sp, theta)
            fit.append((acc, r2))
        rank = sorted(range(len(pop)), key=lambda k: -fit[k][0])
        mean_acc = sum(f[0] for f in fit) / len(fit)
        mean_r2 = sum(f[1] for f in fit) / len(fit)
        print(
            f"  generation {g}: best accuracy {fit[rank[0]][0]:.4f}, mean {mean_acc:.4f}, "
            f"self R2 {mean_r2:.4f}, {time.monotonic() - t0:.2f} s"
        )
        if g == args.generations - 1:
            best = pop[rank[0]]
            break
        nxt = [pop[k] for k in rank[: args.elitism]]
        while len(nxt) < args.population:
            pos = min(
                int(torch.randint(len(pop), (1,), generator=gen)) for _ in range(args.tournament)
            )
            child, _ = birth(sp, pop[rank[pos]], args, gen)
            nxt.append(child)
            births += 1
        pop = nxt
    held = accuracy(best, sp.held_act, sp.held_y)
    secs, cpu = time.monotonic() - t0, time.process_time() - c0
    print(f"  best on the {sp.held_y.shape[0]} held-out test images: {held:.4f}")
    print(
        f"torch_loop: births {births} seconds {secs:.3f} births/s {births / secs:.3f} "
        f"cpu-seconds {cpu:.3f} births/cpu-s {births / cpu:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
