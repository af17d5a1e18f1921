/**
 * Scaling of identification: solve time against the number of neurons N and of recorded steps
 * T, on synthetic recurrent LIF networks (M = 50 Poisson inputs, trials of 500 steps), all
 * neurons in parallel workers. Prints wall-clock and CPU seconds (CPU summed over the workers:
 * on a machine shared with other jobs the wall clock stretches, the CPU time much less) and
 * each run's ratio to the first (reference) run of the same process.
 *
 *   deno run -A scripts/bench_identify.ts
 *   deno run -A scripts/bench_identify.ts --neurons 20,100 --steps 500,2000
 * @module
 */

import process from "node:process";
import { parseCommandLine } from "../src/io/cli.ts";
import { identify, randomNetwork, recordNetwork } from "../src/identify/mod.ts";

const help =
  `Usage: deno run -A scripts/bench_identify.ts [--neurons 20,50,100] [--steps 500,1000,2000]
  [--inputs 50] [--workers N]

Identification time against the neurons N and the recorded steps T on synthetic recurrent LIF
networks, with each run's ratio to the first.`;
const { values: v } = parseCommandLine("bench_identify", help, {
  neurons: { type: "string", default: "20,50,100" },
  steps: { type: "string", default: "500,1000,2000" },
  inputs: { type: "string", default: "50" },
  workers: { type: "string" },
});
const list = (s: string) => s.split(",").map(Number);
const m = Number(v.inputs), workers = v.workers ? Number(v.workers) : undefined;
console.log(
  `identification time, ${m} inputs, recurrent LIF, ${
    workers ?? navigator.hardwareConcurrency
  } workers`,
);
console.log("    N      T  weights/neuron  wall s   CPU s  wall/ref  CPU/ref  mean rows  exact");
let ref: { wall: number; cpu: number } | null = null;
for (const n of list(v.neurons)) {
  for (const steps of list(v.steps)) {
    const net = randomNetwork({ neurons: n, inputs: m, seed: 1 });
    const per = Math.min(500, steps);
    const rec = recordNetwork(net, { trials: Math.ceil(steps / per), steps: per, rate: 0.1 });
    const c0 = process.cpuUsage(), t0 = performance.now();
    const id = await identify(rec, net.model, { workers });
    const wall = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    const rows = Math.round(id.neurons.reduce((a, r) => a + r.rows, 0) / n);
    ref ??= { wall, cpu };
    const exact = id.neurons.every((r) => r.margin > 0);
    console.log(
      `${String(n).padStart(5)}  ${String(steps).padStart(5)}  ${String(m + n).padStart(14)}  ${
        wall.toFixed(1).padStart(6)
      }  ${cpu.toFixed(1).padStart(6)}  ${(wall / ref.wall).toFixed(1).padStart(8)}  ${
        (cpu / ref.cpu).toFixed(1).padStart(7)
      }  ${String(rows).padStart(9)}  ${exact}`,
    );
  }
}
