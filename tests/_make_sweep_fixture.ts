// Writes the tiny sweep of tests/fixtures/sweep_tiny/ in the sweep folder format of
// docs/study.md ("The sweep folder") with real searches through runMei: two checkpoints of
// the spiking ResNet, two layers, two neurons, three methods, noise 0 and 0.5, budget 60.
// Run once: deno run -A tests/_make_sweep_fixture.ts tests/fixtures/sweep_tiny
import { encodePng, tensorToRaster } from "../src/io/image.ts";
import { defaultSettings, runMei } from "../src/models/mei.ts";
import { sha256Hex } from "../src/models/manifest.ts";
import { openSession } from "../src/runtime/mod.ts";
import { selectedActivations } from "../src/models/pipeline.ts";
import { normalizedEntropy } from "../src/analysis/stats.ts";

const out = Deno.args[0];
if (!out) throw new Error("usage: deno run -A tests/_make_sweep_fixture.ts OUT_DIR");
const spec = {
  targets: ["sresnet18@0", "sresnet18@8"],
  layers: ["sn1", "layer4.1.sn2"],
  neurons: "0-1",
  methods: ["tt", "tt-b", "portfolio"],
  seeds: [0],
  noise: [0, 0.5],
  generator: "sngan",
  grid: "uniform" as const,
  grid_size: 64,
  range: [-4, 4] as [number, number],
  budget: 60,
  unit: "channel" as const,
};
await Deno.mkdir(`${out}/images`, { recursive: true });
const lines: string[] = [];
const models: { generator?: unknown; targets: Record<string, unknown> } = { targets: {} };
const checkpoints = [100, 200, 500, 1000, 2000, 5000, 10000];
for (const target of spec.targets) {
  for (const layer of spec.layers) {
    for (const method of spec.methods) {
      for (const seed of spec.seeds) {
        for (const noise of spec.noise) {
          const run = await runMei({
            ...defaultSettings,
            target,
            layer,
            neurons: spec.neurons,
            method,
            seed,
            noise,
            budget: spec.budget,
            backend: "wasm",
          });
          const entry = run.models.target.entry!;
          models.generator = {
            source: run.models.generator.source,
            sha256: run.models.generator.sha256,
          };
          models.targets[target] = {
            source: run.models.target.source,
            sha256: run.models.target.sha256,
            epoch: entry.epoch,
            test_accuracy: entry.test_accuracy,
          };
          const best = run.result.results.map((r) => r.best);
          const images = await run.problem.images(best);
          const session = await openSession(`models/${entry.file}`, {
            backend: "wasm",
            outputs: [layer, "logits"],
          });
          const res = await session.run({ image: images }, [layer, "logits"]);
          await session.release();
          const clean = selectedActivations(res[layer], best.length, {
            kind: "channel",
            layer,
            units: run.neurons,
          });
          const k = res.logits.dims[1], [c, h, w] = images.dims.slice(1);
          for (const [j, neuron] of run.neurons.entries()) {
            const r = run.result.results[j];
            const row = Array.from(res.logits.data.subarray(j * k, (j + 1) * k));
            const m = Math.max(...row), e = row.map((v) => Math.exp(v - m));
            const z = e.reduce((a, b) => a + b);
            const p = e.map((v) => v / z);
            const predicted = p.indexOf(Math.max(...p));
            const history = r.history.map((hh) => [hh.evaluations, hh.value]);
            const at = (v: number) => history.find(([, b]) => b >= v)![0];
            const reached = Object.fromEntries(
              [50, 90, 100].map((q) => [String(q), at(r.value * (q / 100))]),
            );
            const curve = [...checkpoints.filter((x) => x < spec.budget), spec.budget].map((x) => [
              x,
              history.filter(([ev]) => ev <= x).at(-1)?.[1] ?? null,
            ]);
            const png = await encodePng(
              tensorToRaster(images.data.subarray(j * c * h * w, (j + 1) * c * h * w), [c, h, w]),
            );
            const sha = await sha256Hex(png);
            await Deno.writeFile(`${out}/images/${sha}.png`, png);
            const arch = target.split("@")[0];
            lines.push(JSON.stringify({
              key: [target, layer, neuron, method, seed, noise].join("|"),
              target,
              arch,
              epoch: entry.epoch,
              layer,
              neuron,
              method,
              seed,
              noise,
              budget: spec.budget,
              evaluations: r.evaluations,
              best_index: Array.from(r.best),
              latent: Array.from(r.best, (i) => run.latentValues![i]),
              activation: r.value,
              clean_activation: clean[j * run.neurons.length + j], // image j, unit j
              class_probs: p,
              predicted_class: predicted,
              class_probability: p[predicted],
              class_entropy: normalizedEntropy(p),
              reached,
              curve,
              history,
              image: `images/${sha}.png`,
              image_sha256: sha,
              wall_seconds: 0,
            }));
          }
        }
      }
    }
  }
}
await Deno.writeTextFile(
  `${out}/sweep.json`,
  JSON.stringify({ format: "mei-sweep/1", spec, models, searches: lines.length }, null, 1) + "\n",
);
await Deno.writeTextFile(`${out}/records.jsonl`, lines.join("\n") + "\n");
console.log(`${out}: ${lines.length} records`);
