#!/usr/bin/env bash
# CI smoke test of the training recipe: every recipe command (retime.py too) on a tiny slice (300 train / 300
# test images, one epoch, T = 2, tiny widths), end to end through ONNX export, manifest and parity
# fixtures, all inside a temporary directory (shipped models and fixtures are not touched).
#
#   bash models/recipe/smoke.sh            (needs python3 with torch and onnx, e.g. Debian's
#                                           python3-torch python3-onnx, and dataset-fashion-mnist)
# Env: PYTHON (default /usr/bin/python3 if it has torch, else python3), KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then PY=/usr/bin/python3; else PY=python3; fi
fi
TMP="$(mktemp -d /tmp/mei-tt-smoke.XXXXXX)"
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$TMP"' EXIT; fi
OUT="$TMP/models"
CK="$TMP/ckpt"
COMMON=(--limit 300 --epochs 1 --threads 2 --out-dir "$OUT")
R=models/recipe/train.py
set -x
"$PY" $R cnn "${COMMON[@]}" --ckpt-dir "$CK/cnn"
"$PY" $R sresnet18 "${COMMON[@]}" --ckpt-dir "$CK/sresnet18" --T 2 --width 4 --snapshots 0,1
"$PY" $R scnn "${COMMON[@]}" --ckpt-dir "$CK/scnn" --T 2 --hidden 32
"$PY" $R sngan "${COMMON[@]}" --ckpt-dir "$CK/sngan" --width 8 --classifier "$CK/cnn/final.pt" --eval-samples 300
"$PY" $R vqvae "${COMMON[@]}" --ckpt-dir "$CK/vqvae" --width 16
# CIFAR-10 path: a fake directory in the standard binary batch format (random bytes)
"$PY" - "$TMP/cifar" <<'PYEOF'
import os, sys
import numpy as np
d = sys.argv[1]; os.makedirs(d)
r = np.random.RandomState(0)
for name, n in [("data_batch_1.bin", 150), ("data_batch_2.bin", 150), ("test_batch.bin", 100)]:
    rec = r.randint(0, 256, (n, 3073)).astype(np.uint8); rec[:, 0] = np.arange(n) % 10; rec.tofile(os.path.join(d, name))
PYEOF
"$PY" $R sresnet18 --dataset cifar10 --data "$TMP/cifar" --epochs 1 --threads 2 --out-dir "$TMP/cifar_models" \
  --ckpt-dir "$CK/sresnet18_cifar" --T 2 --width 4 --snapshots 1
# resume path: a second run of a finished command must load last.pt and do nothing more
"$PY" $R scnn "${COMMON[@]}" --ckpt-dir "$CK/scnn" --T 2 --hidden 32 > "$TMP/resume.log"
grep "resumed from" "$TMP/resume.log"
# retime path: the spiking ResNet at T = 12 (>= parity.py's LONG_T: a bulk-compared fixture)
"$PY" models/recipe/retime.py --from "$CK/sresnet18/e1.pt" --epoch 1 --images 100 sresnet18 "${COMMON[@]}" \
  --ckpt-dir "$CK/sresnet18t12" --T 12 --width 4 --tag sresnet18t12_fmnist
"$PY" models/recipe/manifest.py --out-dir "$OUT"
"$PY" models/recipe/parity.py --out-dir "$OUT" --fixtures "$TMP/fixtures" \
  sresnet18_fmnist_e1 sresnet18t12_fmnist_e1 scnn_fmnist_e1 cnn_fmnist sngan_fmnist vqvae_fmnist_decoder
grep -q '"mean_rate"' "$TMP/fixtures/sresnet18t12_fmnist_e1_parity.json"
set +x
n=$(ls "$OUT"/*.onnx | wc -l)
[ "$n" -eq 8 ] || { echo "expected 8 onnx files, got $n"; exit 1; }
echo "smoke OK: $n models in $OUT"
