// The optimizer API and the tensor-train methods: known optima, reproducibility, budgets and
// error messages.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { createOptimizer, optimize } from "../src/optim/optimize.ts";
import "../src/optim/methods.ts";
import { benchmark } from "../src/bench/functions.ts";

const quadratic = (t: number[]) => (batch: Int32Array[]) =>
  batch.map((i) => i.reduce((s, v, k) => s + (v - t[k]) ** 2, 0));

// The rate is the method's own: over seeds 0-39 with these targets, 27 of 40 runs reach the
// optimum within 1e4 evaluations and the others end one step away (the model has settled); the
// first float64 core reached 28 of 40 on the same targets. The first five seeds are pinned here.
Deno.test("protes (defaults) finds the exact optimum of a separable quadratic, d=10, n=16", async () => {
  for (let seed = 0; seed < 5; seed++) {
    const t = Array.from({ length: 10 }, (_, k) => (7 * k + 5 * seed) % 16);
    const r = await optimize("protes", quadratic(t), {
      space: { d: 10, n: 16 },
      budget: 10_000,
      seed,
    });
    assertEquals(r.value, 0, `seed ${seed}`);
    assertEquals(Array.from(r.best), t);
  }
});

Deno.test("tt-b reaches the grid optimum of Ackley (d=7, n=16, Chebyshev) for >= 9 of 10 seeds", async () => {
  const ackley = benchmark("ackley", { d: 7, n: 16, grid: "chebyshev" });
  assert(Math.abs(ackley.optimum! - 12.2268) < 1e-4, `grid optimum ${ackley.optimum}`);
  let hits = 0;
  for (let seed = 0; seed < 10; seed++) {
    const r = await optimize("tt-b", ackley.f, { space: ackley.space, budget: 10_000, seed });
    assert(r.value >= ackley.optimum! - 1e-12);
    if (r.value - ackley.optimum! < 1e-9) hits++;
  }
  assert(hits >= 9, `${hits} of 10 seeds reached the optimum`);
});

Deno.test("ttopt finds the exact optimum of a separable quadratic, d=10, n=16", async () => {
  for (let seed = 0; seed < 3; seed++) {
    const t = Array.from({ length: 10 }, (_, k) => (5 * k + 11 * seed) % 16);
    const r = await optimize("ttopt", quadratic(t), {
      space: { d: 10, n: 16 },
      budget: 10_000,
      seed,
    });
    assertEquals(r.value, 0, `seed ${seed}`);
  }
});

Deno.test("maximizing -f replays minimizing f; tt-b and ttopt find the maximum", async () => {
  const t = [1, 62, 33, 7];
  const neg = (b: Int32Array[]) => quadratic(t)(b).map((v) => -v);
  const space = { d: 4, n: 64 };
  // At this budget tt-b reaches the maximum for 11 of seeds 0-19 (seed 2 among them), ttopt for
  // all; protes without quantization rarely does (it only has to replay here).
  for (const method of ["protes", "tt-b", "ttopt"]) {
    const max = await optimize(method, neg, { space, budget: 5000, seed: 2, maximize: true });
    const min = await optimize(method, quadratic(t), { space, budget: 5000, seed: 2 });
    assertEquals(
      max.history.map((h) => [h.evaluations, -h.value]),
      min.history.map((h) => [h.evaluations, h.value]),
    );
    if (method !== "protes") assertEquals(max.value, -0, method);
  }
});

Deno.test("the same seed gives the identical run; another seed another run", async () => {
  const f = quadratic([3, 1, 4, 1, 5, 9, 2, 6]);
  for (const method of ["protes", "tt", "ttopt"]) {
    const opts = { space: { d: 8, n: 16 }, budget: 1500 };
    const a = await optimize(method, f, { ...opts, seed: 42 });
    const b = await optimize(method, f, { ...opts, seed: 42 });
    const c = await optimize(method, f, { ...opts, seed: 43 });
    assertEquals(a, b);
    assert(JSON.stringify(a.history) !== JSON.stringify(c.history), method);
  }
});

Deno.test("the budget is never exceeded and batches arrive whole", async () => {
  for (const [method, batch] of [["protes", 100], ["tt-b", 25], ["tt-exp", 100]] as const) {
    const sizes: number[] = [];
    const r = await optimize(method, (b) => {
      sizes.push(b.length);
      return b.map((i) => i[0]);
    }, { space: { d: 5, n: 8 }, budget: 1010, seed: 0 });
    assertEquals(r.evaluations, 1010);
    assertEquals(sizes.reduce((a, b) => a + b), 1010);
    assert(sizes.slice(0, -1).every((s) => s === batch), method);
    assertEquals(sizes.at(-1), 1010 % batch || batch);
  }
  let told = 0;
  await optimize("ttopt", (b) => (told += b.length, b.map((i) => i[1])), {
    space: { d: 6, n: 16 },
    budget: 777,
    seed: 0,
  });
  assert(told <= 777);
});

Deno.test("history records each improvement with its evaluation count", async () => {
  const r = await optimize("tt-s", quadratic([2, 2, 2]), {
    space: { d: 3, n: 4 },
    budget: 200,
    seed: 5,
  });
  for (let j = 1; j < r.history.length; j++) {
    assert(r.history[j].value < r.history[j - 1].value);
    assert(r.history[j].evaluations > r.history[j - 1].evaluations);
  }
  assertEquals(r.history.at(-1)!.value, r.value);
});

Deno.test("invalid options give a clear error naming the option", () => {
  const f = { space: { d: 3, n: 4 }, budget: 10 };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["protes", { ...f, budget: 0 }, /budget must be an integer >= 1/],
    ["protes", { ...f, space: { d: 0, n: 4 } }, /space\.d must be an integer >= 1/],
    ["protes", { ...f, space: { d: 3, n: 1 } }, /space\.n must be integers >= 2/],
    [
      "protes",
      { ...f, params: { k: 5, k_top: 10 } },
      /params\.k \(5\) must be >= params\.k_top \(10\)/,
    ],
    ["protes", { ...f, params: { lr: -1 } }, /params\.lr of "protes" must be > 0/],
    ["protes", { ...f, params: { rank: 3 } }, /unknown parameter "rank".*valid: k, k_top/],
    ["nope", f, /unknown optimizer "nope"; valid methods: .*protes/],
    ["ttopt", { ...f, params: { transform: "log" } }, /must be one of exp, raw/],
  ];
  for (const [method, opts, message] of cases) {
    throws(() => createOptimizer(method, opts as never), message);
  }
});

Deno.test("a NaN or infinite objective value is reported with the offending point", async () => {
  for (const bad of [NaN, Infinity]) {
    await optimize("protes", (b) => b.map((i) => (i[0] === 2 ? bad : 1)), {
      space: { d: 2, n: 4 },
      budget: 100,
      seed: 0,
    }).then(
      () => assert(false, "no error"),
      (e: Error) =>
        assert(
          /returned (NaN|Infinity) \(not a finite number\) at \[2, \d\]/.test(e.message),
          e.message,
        ),
    );
  }
});
