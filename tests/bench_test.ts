/** Tests of the analytic benchmark suite (grid optima against brute force, the knapsack) and of the comparison runs. */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { ANALYTIC_FUNCTIONS, benchmark, knapsackInstance } from "../src/bench/functions.ts";
import { quantile, runTask, summarize } from "../src/bench/compare.ts";

/** All multi-indices of a small grid. */
function allIndices(d: number, n: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let c = 0; c < n ** d; c++) {
    out.push(Int32Array.from({ length: d }, (_, k) => Math.floor(c / n ** k) % n));
  }
  return out;
}

Deno.test("grid optima equal the brute-force minimum on small grids", () => {
  for (const grid of ["chebyshev", "uniform"] as const) {
    for (const name of ANALYTIC_FUNCTIONS) {
      for (const [d, n] of [[3, 8], [4, 5]]) {
        const b = benchmark(name, { d, n, grid });
        const brute = Math.min(...b.f(allIndices(d, n)));
        if (b.optimum === undefined) continue; // Griewank: not computed
        assert(
          Math.abs(b.optimum - brute) <= 1e-9 * Math.max(1, Math.abs(brute)),
          `${name} ${grid}`,
        );
      }
    }
  }
});

Deno.test("Ackley d=7, n=16 on the Chebyshev grid: optimum 12.2268... at the central indices", () => {
  const b = benchmark("ackley", { d: 7, n: 16, grid: "chebyshev" });
  assert(Math.abs(b.optimum! - 12.2268) < 1e-4, `${b.optimum}`);
  // The two central points +-32.768 cos(7 pi / 15) = +-3.4252 give the optimum in any mix.
  const [a, m] = b.f([new Int32Array(7).fill(7), Int32Array.of(7, 8, 7, 8, 8, 7, 8)]);
  assert(Math.abs(a - b.optimum!) < 1e-12 && Math.abs(m - b.optimum!) < 1e-12);
  assert(Math.abs(b.values[7] - 32.768 * Math.cos(7 * Math.PI / 15)) < 1e-12);
});

Deno.test("analytic functions at their continuous optima", () => {
  const at = (name: typeof ANALYTIC_FUNCTIONS[number], x: number[]) =>
    benchmark(name, { d: x.length }).fx!(Float64Array.from(x));
  assert(Math.abs(at("ackley", [0, 0, 0])) < 1e-12);
  assertEquals(at("alpine", [0, 0]), 0);
  assertEquals(at("exponential", [0, 0]), -1);
  assertEquals(at("griewank", [0, 0]), 0);
  assertEquals(at("qing", [1, Math.SQRT2]) < 1e-15, true);
  assertEquals(at("rastrigin", [0, 0, 0]), 0);
  assertEquals(at("schaffer", [0, 0, 0]), 0);
  assert(Math.abs(at("schwefel", [420.9687, 420.9687])) < 1e-3);
  assert(Math.abs(at("michalewicz", [2.20291, 1.570796]) + 1.8013) < 1e-4); // known 2-D minimum
});

Deno.test("knapsack: dynamic-programming optimum equals brute force; infeasible is 0", () => {
  const b = benchmark("knapsack", { d: 12, seed: 3 });
  assertEquals(b.space, { d: 12, n: 2 });
  const brute = Math.min(...b.f(allIndices(12, 2)));
  assertEquals(b.optimum, brute);
  const inst = knapsackInstance(12, 3);
  const [all] = b.f([new Int32Array(12).fill(1)]); // everything: twice the capacity
  assert(inst.weights.reduce((a, c) => a + c) > inst.capacity);
  assertEquals(all, 0);
});

Deno.test("comparison runs: reproducible, scored on the clean objective under noise", async () => {
  const task = {
    method: "de",
    problem: "rastrigin" as const,
    seed: 2,
    noise: 0.5,
    budget: 400,
    d: 3,
    n: 8,
  };
  const a = await runTask(task), b = await runTask(task);
  assertEquals([a.final, a.reported, a.history], [b.final, b.reported, b.history]);
  assertEquals(a.evaluations, 400);
  const clean = benchmark("rastrigin", { d: 3, n: 8 });
  assert(a.final >= clean.optimum! && a.history.every(([, v]) => v >= clean.optimum!));
  // The history holds clean values of incumbents; the final point's clean value is the last.
  assertEquals(a.history.at(-1)![1], a.final);
  const quiet = await runTask({ ...task, noise: 0 });
  assertEquals(quiet.final, quiet.reported);
});

Deno.test("summaries: quartiles, and evaluations to the target with unreached runs", () => {
  const run = (seed: number, final: number, hit: number) => ({
    method: "m",
    problem: "alpine" as const,
    seed,
    noise: 0,
    budget: 100,
    d: 2,
    n: 4,
    final,
    reported: final,
    evaluations: 100,
    first: 10,
    seconds: 0,
    history: [[1, 10], [hit, final]] as [number, number][],
  });
  // best 0, reference 10: target 0.1; runs 0 and 1 reach it at 20 and 50, the others never.
  const [s] = summarize([run(0, 0, 20), run(1, 0.1, 50), run(2, 1, 5), run(3, 2, 5), run(4, 4, 5)]);
  assertEquals([s.median, s.q25, s.q75, s.target], [1, 0.1, 2, 0.1]);
  assertEquals([s.reached, s.evaluationsToTarget], [2, Infinity]);
  assertEquals(quantile([1, 2, Infinity], 0.5), 2);
});
