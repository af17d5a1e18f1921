"""Writes parity fixtures: PyTorch outputs of shipped models for fixed inputs, which a TypeScript
test compares with onnxruntime running the exported ONNX files.

    python3 models/recipe/parity.py [--out-dir models] [--fixtures tests/fixtures/models] NAME...

NAME is a model file stem (e.g. sresnet18_fmnist_e12, scnn_fmnist_e6, cnn_fmnist, sngan_fmnist,
vqvae_fmnist_decoder); the PyTorch weights come from the checkpoint named in the sidecar
<out-dir>/meta/NAME.json. Writes <fixtures>/NAME_parity.json:

{
  "model": "sresnet18_fmnist_e12.onnx", "sha256": "...", "kind": "target" | "generator",
  "input": {"name": "image", "shape": [4,1,28,28], "dtype": "float32", "data": [...]},
      // targets: the first 4 test images of the dataset; generators: 2 fixed z
  "outputs": {
    "logits" | "image": {"shape": [...], "data": [...]},          // float32 values, row-major
    "<layer>": {"shape": [B,...], "T": 4, "counts": "0124..."},   // spiking layers: the number of
        // spikes over T of every element (rate = count / T) in as many decimal digits as T has
        // (zero-padded: "0412..." for T = 50), row-major over [B, C, H, W] / [B, F]
    "<layer>": {"shape": [...], "data": [...]}                    // non-spiking (cnn relu) layers
  },
  "near_threshold": {"<layer>": [flat indices]},
      // elements where some |U[t] - thr| < 1e-5 (float rounding in another runtime could flip the
      // spike, and then every later step of that unit): rates there may legitimately differ
  "tolerance": {"logits": 1e-4, "image": 1e-4}
}

Targets of T >= 10 steps are compared in bulk: over many steps a spike that rounding flipped near
the threshold changes the later steps and layers (at T = 50 from the third spiking layer on), so
their tolerance adds "counts" (most spikes any element may differ by) and "mean_rate" (largest
mean |rate difference| of a layer) and the logits' is looser.
"""

import argparse
import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import nets  # noqa: E402
from common import REPO, deno_fmt, sha256  # noqa: E402

TIE_EPS = 1e-5
LONG_T = 10  # from this T on, spiking layers are compared in bulk (see above)


def floats(t):
    return [float(v) for v in t.detach().double().flatten().tolist()]


def build(meta):
    cfg = meta["config"]
    arch = meta["arch"]
    if arch == "sresnet18":
        m = nets.SResNet18(tuple(cfg["in_shape"]), cfg["width"], cfg["T"], cfg["decay"], cfg["stem_stride"],
                           tuple(cfg["norm"]))
    elif arch == "scnn":
        m = nets.SCNN(tuple(cfg["in_shape"]), cfg["hidden"], cfg["T"], cfg["decay"], tuple(cfg["norm"]))
    elif arch == "cnn":
        m = nets.CNN(tuple(cfg["in_shape"]), tuple(cfg["norm"]))
    elif arch == "sngan":
        m = nets.Generator(tuple(cfg["out_shape"]), cfg["latent"], cfg["ch"])
    elif arch == "vqvae":
        vq = nets.VQVAE(tuple(cfg["in_shape"]), cfg["ch"])
        vq.load_state_dict(torch.load(meta["ckpt"]))
        vq.eval()
        return vq
    else:
        raise ValueError(arch)
    m.load_state_dict(torch.load(meta["ckpt"]))
    m.eval()
    return m


@torch.no_grad()
def target_fixture(meta, model, n):
    data = common.load_dataset(meta["dataset"])
    x = data["test"][0][:n].contiguous()
    out = {}
    near = {}
    if isinstance(model, nets.CNN):
        logits = model(x)
        out["logits"] = {"shape": list(logits.shape), "data": floats(logits)}
        for k, v in model.acts.items():
            out[k] = {"shape": list(v.shape), "data": floats(v)}
    else:
        layers = common.spiking_layers(model)
        for _, m in layers:
            m.keep_mem = True
        common.EXPORT_MODE["on"] = True
        try:
            logits = model(x)
        finally:
            common.EXPORT_MODE["on"] = False
        out["logits"] = {"shape": list(logits.shape), "data": floats(logits)}
        for name, m in layers:
            T = m.T
            counts = (m.rate * T).round().to(torch.int64)
            width = len(str(T))
            out[name] = {"shape": list(m.rate.shape), "T": T,
                         "counts": "".join(str(c).zfill(width) for c in counts.flatten().tolist())}
            mem = m.mem.view(T, *m.rate.shape)
            close = ((mem - m.thr).abs() < TIE_EPS).any(0).flatten()
            near[name] = torch.nonzero(close).flatten().tolist()
    return {"name": "image", "shape": list(x.shape), "dtype": "float32", "data": floats(x),
            "source": f"first {n} test images of {meta['dataset']}"}, out, near


@torch.no_grad()
def generator_fixture(meta, model):
    if meta["arch"] == "sngan":
        z = torch.randn(2, meta["latent_dim"], generator=torch.Generator().manual_seed(7))
        img = model(z)
        zin = {"name": "z", "shape": list(z.shape), "dtype": "float32", "data": floats(z),
               "source": "torch.randn(2, 128, generator=manual_seed(7))"}
    else:
        data = common.load_dataset(meta["dataset"])
        _, _, idx = model(data["test"][0][:2])
        img = nets.VQDecoderFromCodes(model)(idx)
        zin = {"name": "z", "shape": list(idx.shape), "dtype": "int64", "data": [int(v) for v in idx.flatten()],
               "source": "codes of the first 2 test images"}
    return zin, {"image": {"shape": list(img.shape), "data": floats(img)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--fixtures", default=os.path.join(REPO, "tests", "fixtures", "models"))
    ap.add_argument("--n", type=int, default=4, help="test images per target fixture")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.fixtures, exist_ok=True)
    for name in args.names:
        with open(os.path.join(args.out_dir, "meta", name + ".json")) as f:
            meta = json.load(f)
        model = build(meta)
        fx = {"model": meta["file"], "sha256": sha256(os.path.join(args.out_dir, meta["file"])), "kind": meta["kind"],
              "tolerance": {"logits": 1e-4, "image": 1e-4, "activations": 1e-4}}
        if meta["kind"] == "target":
            n = 2 if meta["arch"] == "cnn" else args.n
            fx["input"], fx["outputs"], fx["near_threshold"] = target_fixture(meta, model, n)
            if (meta.get("T") or 0) >= LONG_T:
                fx["tolerance"].update({"logits": 5e-2, "counts": 3, "mean_rate": 2e-3})
        else:
            fx["input"], fx["outputs"] = generator_fixture(meta, model)
        p = os.path.join(args.fixtures, name + "_parity.json")
        with open(p, "w") as f:
            json.dump(fx, f, separators=(",", ":"))
        deno_fmt(p)
        ties = {k: len(v) for k, v in fx.get("near_threshold", {}).items() if v}
        print(f"wrote {p} ({os.path.getsize(p) / 1e3:.0f} kB) near-threshold elements: {ties or 'none'}")


if __name__ == "__main__":
    main()
