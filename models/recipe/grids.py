"""PNG grids for the README: SN-GAN samples and VQ-VAE test reconstructions.

    python3 models/recipe/grids.py [--out-dir models] [--sngan sngan_fmnist] [--vqvae vqvae_fmnist_decoder]

Writes <out-dir>/<sngan>_samples.png (8x8 samples from torch.randn(64, 128) with seed 0) and
<out-dir>/<vqvae-stem>_recon.png (rows alternate: 8 test images, their reconstructions).
Grayscale PNG written with zlib only (no imaging library needed).
"""

import argparse
import json
import os
import struct
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import nets  # noqa: E402
from common import REPO  # noqa: E402
from parity import build  # noqa: E402


def write_png_gray(path, img):
    """img: 2-D uint8 tensor."""
    h, w = img.shape
    raw = b"".join(b"\x00" + bytes(img[y].tolist()) for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid(imgs, cols, pad=2, scale=2):
    """imgs [N,1,H,W] in [0,1] -> uint8 [rows*(H+pad)+pad, ...] upscaled by `scale`."""
    n, _, h, w = imgs.shape
    rows = (n + cols - 1) // cols
    out = torch.ones(rows * (h + pad) + pad, cols * (w + pad) + pad)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = imgs[i, 0]
    out = out.repeat_interleave(scale, 0).repeat_interleave(scale, 1)
    return (out.clamp(0, 1) * 255).round().to(torch.uint8)


def meta_of(out_dir, name):
    with open(os.path.join(out_dir, "meta", name + ".json")) as f:
        return json.load(f)


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--sngan", default="sngan_fmnist")
    ap.add_argument("--vqvae", default="vqvae_fmnist_decoder")
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.out_dir, "meta", args.sngan + ".json")):
        meta = meta_of(args.out_dir, args.sngan)
        G = build(meta)
        z = torch.randn(64, meta["latent_dim"], generator=torch.Generator().manual_seed(0))
        p = os.path.join(args.out_dir, args.sngan + "_samples.png")
        write_png_gray(p, grid(G(z), 8))
        print("wrote", p)
    if os.path.exists(os.path.join(args.out_dir, "meta", args.vqvae + ".json")):
        meta = meta_of(args.out_dir, args.vqvae)
        vq = build(meta)
        x = common.load_dataset(meta["dataset"])["test"][0][:32]
        rec, _, _ = vq(x)
        rows = []
        for k in range(4):
            rows += [x[8 * k : 8 * k + 8], rec[8 * k : 8 * k + 8]]
        p = os.path.join(args.out_dir, args.vqvae.replace("_decoder", "") + "_recon.png")
        write_png_gray(p, grid(torch.cat(rows), 8))
        print("wrote", p)


if __name__ == "__main__":
    main()
