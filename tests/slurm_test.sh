#!/bin/bash
# SLURM for real (run by .ci/run, as root, with slurm-wlm and munge installed): start a
# single-node cluster, submit the README's array job (two shards) and its dependent merge on a
# tiny sweep, wait, and compare the merged records with an unsharded run of the same spec,
# record for record (wall_seconds aside). Stops the daemons at the end. Where the cluster
# cannot start, says SKIPPED and why (exit 0, and no PASS line).
set -euo pipefail
cd "$(dirname "$0")/.."
deno=${DENO:-$(command -v deno || true)}
[[ -n "$deno" ]] || { echo "slurm test: no deno binary (set DENO)" >&2; exit 1; }
work=$(mktemp -d /tmp/mei-slurm-XXXXXX)
cleanup() {
  deploy/slurm/local_cluster.sh stop "$work/cluster" || true
  rm -rf "$work" 2>/dev/null || { sleep 1; rm -rf "$work"; }
}
trap cleanup EXIT
if ! start=$(deploy/slurm/local_cluster.sh start "$work/cluster" 2>&1); then
  echo "slurm test: SKIPPED, the single-node cluster cannot start here: $start"
  exit 0
fi
export SLURM_CONF=$work/cluster/slurm.conf DENO=$deno
cat > "$work/spec.json" <<'SPEC'
{"targets": ["scnn@6"], "layers": ["sn1", "sn2"], "neurons": "0-3", "methods": ["tt-b", "tt"],
 "noise": [0, 0.3], "budget": 100}
SPEC
"$deno" run -A scripts/sweep.ts --spec "$work/spec.json" --out "$work/unsharded" 2>/dev/null
# The README's commands: the array job, then the merge once every task succeeded.
jid=$(sbatch --parsable --chdir="$PWD" --output="$work/%x-%A_%a.out" --array=0-1 \
  deploy/slurm/sweep.sbatch "$work/spec.json" "$work/demo")
mid=$(sbatch --parsable --chdir="$PWD" --output="$work/%x-merge.out" \
  --dependency=afterok:"$jid" deploy/slurm/sweep.sbatch "$work/spec.json" "$work/demo")
for _ in $(seq 600); do
  [[ -z "$(squeue -h -j "$jid,$mid" 2>/dev/null)" ]] && break
  sleep 0.5
done
if [[ -n "$(squeue -h -j "$jid,$mid" 2>/dev/null)" ]]; then
  echo "slurm test: FAILED, the jobs did not finish in 5 minutes"; squeue; exit 1
fi
if [[ ! -f "$work/demo/records.jsonl" ]]; then
  echo "slurm test: FAILED, no merged sweep; job output:"; cat "$work"/*.out; exit 1
fi
ls -d "$work"/demo.shards/* | wc -l | grep -qx 2 || { echo "slurm test: FAILED, expected 2 shards"; exit 1; }
"$deno" eval '
const [a, b] = Deno.args;
const read = (dir) => new Map(Deno.readTextFileSync(`${dir}/records.jsonl`).split("\n")
  .filter((l) => l).map((l) => { const r = JSON.parse(l); delete r.wall_seconds; return [r.key, JSON.stringify(r)]; }));
const want = read(a), got = read(b);
const bad = [...want.keys()].filter((k) => got.get(k) !== want.get(k));
if (got.size !== want.size || bad.length) {
  console.error(`slurm test: FAILED, ${got.size} merged records vs ${want.size}; differing: ${bad.slice(0, 5)}`);
  Deno.exit(1);
}
console.log(`slurm test: PASS, ${got.size} records of the array job merged equal the unsharded run`);
' "$work/unsharded" "$work/demo"
