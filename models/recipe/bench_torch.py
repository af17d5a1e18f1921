"""PyTorch eager baseline for `deno task bench` (scripts/bench.ts): evaluations per second of
generator + target, built from the recipe's own modules (nets.py), on the same thread count.

    python3 models/recipe/bench_torch.py --target-meta models/meta/sresnet18_fmnist_e0.json \
        [--generator-meta models/meta/sngan_fmnist.json] --threads 2 --batches 5,25,100 --seconds 2

Prints one JSON object on stdout: {"torch": version, "threads": n, "results": [{"batch", "evals_per_s",
"ms_per_batch", "runs"}]}, the rate of the best of `--rounds` rounds (the machine may be shared). Weights come from the checkpoints named in the metadata when they
exist, else from the modules' initialization (the cost of a forward pass does not depend on the
weights). `--export-generator PATH` writes the generator as ONNX (z -> image, dynamic batch) for
the ONNX side of the benchmark when no generator is shipped yet, and exits.

`--convs DIR` (with one batch size) times, instead, every convolution and linear layer that one
evaluation calls, alone: a forward of generator + target at that batch records each call's layer
and input shape, a plain layer of the same shape (random weights: the cost does not depend on
them) is timed on such an input and exported to DIR as ONNX, and the whole evaluation is timed for
reference. It prints {"torch", "threads", "batch", "whole_ms", "layers": [{"file", "kind",
"input", "calls", "ms"}]}, where "ms" is one call's best time.
"""

import argparse
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402


def load_meta(path):
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def build_target(meta):
    cfg = dict(meta["config"])
    arch = meta["arch"]
    if arch == "sresnet18":
        cfg["in_shape"] = tuple(cfg["in_shape"])
        model = nets.SResNet18(**cfg)
    elif arch == "scnn":
        cfg["in_shape"] = tuple(cfg["in_shape"])
        model = nets.SCNN(**cfg)
    elif arch == "cnn":
        model = nets.CNN(tuple(cfg["in_shape"]), cfg["norm"])
    else:
        raise SystemExit(f"unknown target arch {arch}")
    ckpt = meta.get("ckpt")
    loaded = False
    if ckpt and os.path.exists(ckpt):
        try:
            state = torch.load(ckpt, map_location="cpu")
            model.load_state_dict(state.get("model", state) if isinstance(state, dict) else state)
            loaded = True
        except Exception:  # noqa: BLE001 - initialization weights cost the same
            pass
    return model.eval(), loaded


def build_generator(meta):
    cfg = (meta or {}).get("config") or {"out_shape": [1, 28, 28], "latent": 128, "ch": 32}
    g = nets.Generator(tuple(cfg["out_shape"]), cfg["latent"], cfg["ch"])
    loaded = False
    ckpt = (meta or {}).get("ckpt")
    if ckpt and os.path.exists(ckpt):
        try:
            state = torch.load(ckpt, map_location="cpu")
            g.load_state_dict(state.get("G", state) if isinstance(state, dict) and "G" in state else state)
            loaded = True
        except Exception:  # noqa: BLE001
            pass
    return g.eval(), cfg["latent"], loaded


def best_ms(fn, seconds, rounds):
    """One call's best time in ms over `rounds` rounds of `seconds` / `rounds` each (the machine may
    be shared: other jobs only slow a round down), after two warm-up calls; and the calls timed."""
    for _ in range(2):
        fn()
    best, total = None, 0
    for _ in range(rounds):
        runs, t0 = 0, time.perf_counter()
        while True:
            fn()
            runs += 1
            dt = time.perf_counter() - t0
            if dt >= seconds / rounds and runs >= 2:
                break
        total += runs
        if best is None or dt / runs < best:
            best = dt / runs
    return 1000 * best, total


def plain_copy(m):
    """A layer of the same kind and shape as `m`, without hooks or spectral normalization."""
    if isinstance(m, nn.Linear):
        return nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    kind = nn.ConvTranspose2d if isinstance(m, nn.ConvTranspose2d) else nn.Conv2d
    extra = {"output_padding": m.output_padding} if kind is nn.ConvTranspose2d else {}
    return kind(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                dilation=m.dilation, groups=m.groups, bias=m.bias is not None, **extra)


def time_layers(gen, target, latent, batch, out_dir, seconds, rounds):
    calls = {}  # (module id, input shape) -> [module, count]

    def hook(m, inputs, _output):
        key = (id(m), tuple(inputs[0].shape))
        calls.setdefault(key, [m, 0])[1] += 1

    handles = [m.register_forward_hook(hook) for net in (gen, target) for m in net.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    z = torch.randn(batch, latent)
    target(gen(z))
    for h in handles:
        h.remove()
    whole, _ = best_ms(lambda: target(gen(z)), seconds, rounds)
    os.makedirs(out_dir, exist_ok=True)
    layers = []
    for i, ((_, shape), (m, count)) in enumerate(calls.items()):
        layer = plain_copy(m).eval()
        x = torch.randn(*shape)
        path = os.path.join(out_dir, f"layer{i}.onnx")
        torch.onnx.export(layer, (x,), path, opset_version=13, input_names=["x"], output_names=["y"])
        layers.append({"file": path, "kind": type(m).__name__, "input": list(shape), "calls": count,
                       "ms": best_ms(lambda: layer(x), seconds, rounds)[0]})
    return whole, layers


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target-meta", required=False)
    p.add_argument("--generator-meta", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batches", default="5,25,100")
    p.add_argument("--seconds", type=float, default=2.0, help="time per batch size, split into rounds")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--export-generator", default=None)
    p.add_argument("--convs", default=None, help="time each convolution alone, export them here")
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    gmeta = load_meta(args.generator_meta)
    gen, latent, gen_loaded = build_generator(gmeta)
    if args.export_generator:
        with torch.no_grad():
            torch.onnx.export(gen, (torch.randn(2, latent),), args.export_generator, opset_version=13,
                              input_names=["z"], output_names=["image"],
                              dynamic_axes={"z": {0: "B"}, "image": {0: "B"}}, do_constant_folding=True)
        print(json.dumps({"exported": args.export_generator, "latent": latent}))
        return
    target, target_loaded = build_target(load_meta(args.target_meta))
    if args.convs:
        batch = int(args.batches.split(",")[0])
        with torch.inference_mode():
            whole, layers = time_layers(gen, target, latent, batch, args.convs, args.seconds, args.rounds)
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": batch,
                          "whole_ms": whole, "layers": layers}))
        return
    results = []
    with torch.inference_mode():
        for b in [int(x) for x in args.batches.split(",")]:
            z = torch.randn(b, latent)
            ms, runs = best_ms(lambda: target(gen(z)), args.seconds, args.rounds)
            results.append({"batch": b, "runs": runs, "ms_per_batch": ms, "evals_per_s": 1000 * b / ms})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "weights_loaded":
                      {"generator": gen_loaded, "target": target_loaded}, "results": results}))


if __name__ == "__main__":
    main()
