"""Regenerates <out-dir>/manifest.json from the exported ONNX files and the sidecar metadata
<out-dir>/meta/<name>.json written by train.py.

    python3 models/recipe/manifest.py [--out-dir models]

For every sidecar whose ONNX file exists: sha256 and size of the file, the graph's declared
inputs/outputs (name, dtype, shape with "B" for the dynamic batch axis, checked against the
sidecar), the opset, and the sidecar's fields (kind, arch, dataset, epoch, accuracy, T, decay,
layers, quality figures, command).
"""

import argparse
import glob
import json
import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, deno_fmt, sha256  # noqa: E402

DT = {1: "float32", 7: "int64", 6: "int32", 11: "float64"}


def graph_io(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)

    def desc(v):
        t = v.type.tensor_type
        shape = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
        return {"name": v.name, "dtype": DT.get(t.elem_type, str(t.elem_type)), "shape": shape}

    inits = {i.name for i in m.graph.initializer}
    ins = [desc(v) for v in m.graph.input if v.name not in inits]
    outs = [desc(v) for v in m.graph.output]
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return ins, outs, opset


def fix_shapes(path, meta):
    """Writes the sidecar's concrete output shapes into a graph whose non-batch output dims were
    left symbolic by the tracer (files exported before train.py did this itself)."""
    m = onnx.load(path)
    want = {o["name"]: o["shape"] for o in meta["outputs"]}
    changed = False
    for o in m.graph.output:
        for i, d in enumerate(o.type.tensor_type.shape.dim):
            v = want[o.name][i]
            if isinstance(v, str):
                if d.dim_param != v:
                    d.dim_param, changed = v, True
            elif d.dim_value != v:
                d.dim_value, changed = v, True
    if changed:
        onnx.checker.check_model(m)
        onnx.save(m, path)
        print("fixed output shapes of", path)


def check(meta, ins, outs, name):
    problems = []
    if [i["name"] for i in ins] != [meta["input"]["name"]]:
        problems.append(f"input names {ins}")
    elif ins[0]["shape"] != meta["input"]["shape"]:
        problems.append(f"input shape {ins[0]['shape']} != {meta['input']['shape']}")
    want = {o["name"]: o["shape"] for o in meta["outputs"]}
    got = {o["name"]: o["shape"] for o in outs}
    if list(want) != list(got):
        problems.append(f"output names {list(got)} != {list(want)}")
    for k, s in want.items():
        if k in got and got[k] != s:
            problems.append(f"output {k} shape {got[k]} != {s}")
    if problems:
        raise SystemExit(f"{name}: " + "; ".join(problems))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--fix-shapes", action="store_true", help="write concrete output shapes into the graphs")
    args = ap.parse_args()
    entries = []
    for mp in sorted(glob.glob(os.path.join(args.out_dir, "meta", "*.json"))):
        with open(mp) as f:
            meta = json.load(f)
        path = os.path.join(args.out_dir, meta["file"])
        if not os.path.exists(path):
            print("skip (no onnx):", meta["file"])
            continue
        if args.fix_shapes:
            fix_shapes(path, meta)
        ins, outs, opset = graph_io(path)
        check(meta, ins, outs, meta["file"])
        e = {"file": meta["file"], "sha256": sha256(path), "bytes": os.path.getsize(path), "opset": opset}
        for k, v in meta.items():
            if k in ("file", "ckpt"):
                continue
            e[k] = v
        e["graph"] = {"inputs": ins, "outputs": outs}
        entries.append(e)
    order = {"target": 0, "generator": 1}
    entries.sort(key=lambda e: (order.get(e["kind"], 2), e["arch"], e.get("epoch") or 0, e["file"]))
    man = {
        "about": "Models trained by models/recipe/train.py (see models/recipe/README.md). Targets: input "
                 "'image' [B,C,H,W] in [0,1], outputs 'logits' [B,10] (mean over T) and, per spiking layer, "
                 "its firing rate averaged over T under the layer's name. Generators: input 'z', output "
                 "'image' [B,C,H,W] in [0,1].",
        "lif": "U[t] = decay*U[t-1] + I[t] - thr*S[t-1] (U[-1]=0, reset by subtraction, detached in training), "
               "S[t] = 1 if U[t] >= thr else 0, thr = 1; arctan surrogate gradient (alpha 2); direct encoding "
               "(static image repeated T times); membrane reset to zero for every image",
        "models": entries,
    }
    out = os.path.join(args.out_dir, "manifest.json")
    with open(out, "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    deno_fmt(out)
    deno_fmt(os.path.join(args.out_dir, "meta"))
    total = sum(e["bytes"] for e in entries)
    print(f"wrote {out}: {len(entries)} models, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
