/**
 * Identification of integrate-and-fire networks (src/identify/), checked against ground truth
 * that this file simulates with its own loop (written from the equations, sharing no code with
 * the identification): recorded spikes reproduced exactly, weights recovered to rounding from
 * potentials, the error falling as the recording grows, contradictory recordings reported with
 * their step, and bad input refused by the CLI with exit code 2 and no output.
 */

import { deepStrictEqual, ok as assert, throws } from "node:assert";
import {
  agreement,
  compareWeights,
  featureCount,
  fitPotentials,
  identify,
  LIF_MODEL,
  makeRecording,
  type Network,
  type NeuronModel,
  parseCsvTrials,
  parseNpyTrials,
  randomNetwork,
  type Recording,
  RecordingError,
  recordNetwork,
  simulateTrial,
} from "../src/identify/mod.ts";
import { decodeNpy, encodeNpy } from "../src/io/npy.ts";

/**
 * The reference simulator: the model's equations written out directly. Neuron i at step t:
 * drive = b_i + sum_j sum_d w[i][j][d] x_j[t-d] + (recurrent) sum_j sum_d w[i][M+j][d] S_j[t-1-d];
 * subtract: U = leak U_prev - theta S_i[t-1] + drive; zero: U = (S_i[t-1] ? 0 : leak U_prev) + drive.
 */
function reference(
  net: Network,
  steps: number,
  x: Float64Array,
  forcedSpikes?: Uint8Array,
): { spikes: Uint8Array; u: Float64Array } {
  const { model, neurons: n, inputs: m } = net;
  const nd = model.maxDelay + 1, k = (m + (net.recurrent ? n : 0)) * nd;
  const s = new Uint8Array(steps * n), u = new Float64Array(steps * n);
  const rec = forcedSpikes ?? s;
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      let drive = net.biases[i];
      for (let j = 0; j < m; j++) {
        for (let d = 0; d < nd; d++) {
          if (t - d >= 0) drive += net.weights[i * k + j * nd + d] * x[(t - d) * m + j];
        }
      }
      for (let j = 0; net.recurrent && j < n; j++) {
        for (let d = 0; d < nd; d++) {
          if (t - 1 - d >= 0) {
            drive += net.weights[i * k + (m + j) * nd + d] * rec[(t - 1 - d) * n + j];
          }
        }
      }
      const prev = t > 0 ? u[(t - 1) * n + i] : 0, spiked = t > 0 && s[(t - 1) * n + i] === 1;
      const v = model.reset === "subtract"
        ? model.leak * prev - (spiked ? model.threshold : 0) + drive
        : (spiked ? 0 : model.leak * prev) + drive;
      u[t * n + i] = v;
      s[t * n + i] = v >= model.threshold ? 1 : 0;
    }
  }
  return { spikes: s, u };
}

/** A recording made by the reference simulator with Bernoulli input spikes. */
function recordReference(net: Network, trials: number, steps: number, seed: number): Recording {
  let state = seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = [];
  for (let r = 0; r < trials; r++) {
    const x = Float64Array.from({ length: steps * net.inputs }, () => rand() < 0.12 ? 1 : 0);
    out.push({ steps, inputs: x, spikes: reference(net, steps, x).spikes });
  }
  return { neurons: net.neurons, inputs: net.inputs, recurrent: net.recurrent, trials: out };
}

/** Spikes of a network on a recording, by the reference simulator, equal the recorded ones. */
function reproduces(net: Network, rec: Recording, forced: boolean): boolean {
  return rec.trials.every((t) =>
    reference(net, t.steps, t.inputs, forced ? t.spikes : undefined).spikes.every((v, q) =>
      v === t.spikes[q]
    )
  );
}

/** Whether weight (source, delay) ever multiplies a nonzero value (else it cannot be known). */
function determined(net: Network, rec: Recording, c: number): boolean {
  const nd = net.model.maxDelay + 1, src = Math.floor(c / nd), d = c % nd;
  return rec.trials.some((t) => {
    for (let s = d; s < t.steps; s++) {
      if (
        src < net.inputs
          ? t.inputs[(s - d) * net.inputs + src]
          : s - d >= 1 && t.spikes[(s - d - 1) * net.neurons + src - net.inputs]
      ) return true;
    }
    return false;
  });
}

const GIF: NeuronModel = { leak: 0.8, threshold: 1, reset: "zero", maxDelay: 2 };
/** Input weight scales that make a network of a few inputs fire at a moderate rate. */
const DRIVE = { inputMean: 0.15, inputStd: 0.4 };

Deno.test("the simulator and the synthetic recorder agree with the reference loop", () => {
  for (const model of [LIF_MODEL, GIF]) {
    const net = randomNetwork({ ...DRIVE, neurons: 6, inputs: 7, model, seed: 4 });
    const rec = recordNetwork(net, { trials: 2, steps: 120, rate: 0.15, seed: 5 });
    for (const t of rec.trials) {
      const ref = reference(net, t.steps, t.inputs);
      deepStrictEqual(t.spikes, ref.spikes);
      const sim = simulateTrial(net, t.steps, t.inputs);
      for (let q = 0; q < ref.u.length; q++) assert(Math.abs(sim.potentials[q] - ref.u[q]) < 1e-12);
    }
    assert(rec.trials[0].spikes.some((v) => v === 1), "the network fires");
  }
});

Deno.test("a recurrent LIF network: training spikes reproduced exactly, held-out predicted", async () => {
  const truth = randomNetwork({ ...DRIVE, neurons: 5, inputs: 10, seed: 11 });
  const rec = recordReference(truth, 4, 400, 12);
  const id = await identify(rec, LIF_MODEL, { workers: 2 });
  assert(id.neurons.every((r) => r.margin > 0 && r.unmet.length === 0));
  assert(reproduces(id.network, rec, true), "training spikes reproduced (driven by the record)");
  const held = recordReference(truth, 2, 400, 13);
  const a = agreement(id.network, held, true);
  assert(a.spikesReproduced / a.spikes > 0.8, `held-out spikes ${a.spikesReproduced}/${a.spikes}`);
  assert(a.silencesReproduced / a.silences > 0.95);
});

Deno.test("the weight error falls as the recording grows", async () => {
  const truth = randomNetwork({ ...DRIVE, neurons: 3, inputs: 12, recurrent: false, seed: 21 });
  const k = featureCount(LIF_MODEL, 12, 3, false);
  const error = async (trials: number) => {
    const rec = recordReference(truth, trials, 300, 22);
    const id = await identify(rec, LIF_MODEL, { workers: 1 });
    return compareWeights(id.network.weights, truth.weights, 3, k).relativeError;
  };
  const short = await error(1), long = await error(12);
  assert(long < short / 2, `error ${long} at 3600 steps vs ${short} at 300`);
  assert(long < 0.1, `error ${long} at 3600 steps`);
});

Deno.test("potentials observed: the linear solve recovers the weights to rounding", () => {
  for (const model of [LIF_MODEL, GIF]) {
    const truth = randomNetwork({ ...DRIVE, neurons: 4, inputs: 6, model, seed: 31 });
    const rec = recordReference(truth, 3, 100, 32);
    const u = rec.trials.map((t) => reference(truth, t.steps, t.inputs).u);
    const fit = fitPotentials(rec, model, u);
    const k = featureCount(model, 6, 4, true);
    let compared = 0;
    for (let q = 0; q < truth.weights.length; q++) {
      if (!determined(truth, rec, q % k)) {
        deepStrictEqual(fit.network.weights[q], 0); // not identifiable: reported as 0
        continue;
      }
      assert(Math.abs(fit.network.weights[q] - truth.weights[q]) < 1e-10);
      compared++;
    }
    assert(
      compared > truth.weights.length * 0.6,
      `${compared} of ${truth.weights.length} compared`,
    );
    for (let i = 0; i < 4; i++) assert(Math.abs(fit.network.biases[i] - truth.biases[i]) < 1e-10);
  }
});

Deno.test("the generalized IF with delays: spikes reproduced exactly", async () => {
  const truth = randomNetwork({
    ...DRIVE,
    neurons: 3,
    inputs: 5,
    model: GIF,
    recurrent: false,
    seed: 41,
  });
  const rec = recordReference(truth, 3, 300, 42);
  const id = await identify(rec, GIF, { workers: 1 });
  assert(id.neurons.every((r) => r.margin > 0));
  assert(reproduces(id.network, rec, false));
});

Deno.test("spikes no weights can produce are reported with their trial and step", async () => {
  // Same input, same history, different outputs at step 1 of trials 0 and 1.
  const spikes = parseCsvTrials("0\n1\n0\n\n0\n0\n0\n", "s.csv");
  const inputs = parseCsvTrials("0\n1\n0\n\n0\n1\n0\n", "x.csv");
  const rec = makeRecording(spikes, inputs, LIF_MODEL);
  const id = await identify(rec, LIF_MODEL, { workers: 1 });
  assert(id.neurons[0].margin <= 0);
  const steps = id.neurons[0].unmet.map((s) => `${s.trial}:${s.step}`);
  assert(steps.includes("0:1") || steps.includes("1:1"), `unmet ${steps}`);
});

Deno.test("recordings that do not fit are refused with a message naming the fault", () => {
  const s = parseCsvTrials("0,1\n1,0\n\n1,1\n0,0\n", "s.csv");
  throws(
    () => makeRecording(s, parseCsvTrials("1\n0\n", "x.csv"), LIF_MODEL),
    (e: Error) => e instanceof RecordingError && /2 trials.*x\.csv has 1/.test(e.message),
  );
  throws(
    () =>
      makeRecording(
        parseCsvTrials("0\n2\n", "s.csv"),
        parseCsvTrials("1\n0\n", "x.csv"),
        LIF_MODEL,
      ),
    (e: Error) => /trial 0, step 1, column 0 holds 2/.test(e.message),
  );
  throws(
    () => makeRecording(s, parseCsvTrials("1\n0\n\n1\n0\n", "x.csv"), { ...GIF, maxDelay: 3 }),
    (e: Error) => /trial 0 has 2 steps.*at least 4/.test(e.message),
  );
  throws(
    () => makeRecording(s, parseCsvTrials("1\n0\n\n1\n0\n1\n", "x.csv"), LIF_MODEL),
    (e: Error) => /trial 1: s\.csv has 2 steps but x\.csv has 3/.test(e.message),
  );
  // currents are allowed when declared
  const c = makeRecording(s, parseCsvTrials("0.5\n-1\n\n2\n0\n", "x.csv"), LIF_MODEL, {
    inputKind: "currents",
  });
  deepStrictEqual([...c.trials[0].inputs], [0.5, -1]);
});

Deno.test(".npy recordings: uint8, bool and int64 arrays of 2 or 3 dimensions", () => {
  const u8 = parseNpyTrials(encodeNpy(Uint8Array.of(0, 1, 1, 0, 1, 1), [3, 2]), "a.npy");
  deepStrictEqual([u8.columns, u8.trials.length, [...u8.trials[0]]], [2, 1, [0, 1, 1, 0, 1, 1]]);
  // numpy's bool and int64 headers, written by hand
  const header = (descr: string, shape: string) => {
    const h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117) +
      "\n";
    return Uint8Array.from([
      0x93,
      ...new TextEncoder().encode("NUMPY"),
      1,
      0,
      h.length,
      0,
      ...new TextEncoder().encode(h),
    ]);
  };
  const b = decodeNpy(Uint8Array.from([...header("|b1", "(2, 1, 2)"), 1, 0, 0, 1]));
  deepStrictEqual([b.shape, [...b.data]], [[2, 1, 2], [1, 0, 0, 1]]);
  const i8 = new BigInt64Array([1n, 0n]);
  const d = decodeNpy(Uint8Array.from([...header("<i8", "(1, 2)"), ...new Uint8Array(i8.buffer)]));
  deepStrictEqual([...d.data].map(Number), [1, 0]);
  throws(() => parseNpyTrials(encodeNpy(Float64Array.of(1), [1]), "w.npy"), /shape \[1\]/);
});

Deno.test("the CLI: exit 2 and no output for bad input and for spikes no weights produce", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/s.csv`, "0\n1\n0\n\n0\n0\n0\n");
    await Deno.writeTextFile(`${dir}/x.csv`, "0\n1\n0\n\n0\n1\n0\n");
    await Deno.writeTextFile(`${dir}/x2.csv`, "0\n1\n0\n");
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "scripts/identify.ts",
          ...args,
          "--out",
          `${dir}/runs`,
          "--holdout",
          "0",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, err: new TextDecoder().decode(out.stderr) };
    };
    const shapes = await run("--spikes", `${dir}/s.csv`, "--inputs", `${dir}/x2.csv`);
    deepStrictEqual(shapes.code, 2);
    assert(/has 2 trials but .*x2\.csv has 1/.test(shapes.err), shapes.err);
    const infeasible = await run("--spikes", `${dir}/s.csv`, "--inputs", `${dir}/x.csv`);
    deepStrictEqual(infeasible.code, 2);
    assert(/neuron 0: 1 steps, e\.g\. trial [01] step 1/.test(infeasible.err), infeasible.err);
    assert(!(await Deno.stat(`${dir}/runs`).catch(() => null)), "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
