/**
 * Build the MEI atlas: a static site of every searched neuron, from sweep folders and
 * optionally an analysis report.
 *
 *   deno run -A scripts/atlas.ts runs/sweep --analysis runs/analysis --out runs/atlas
 *   deno run -A scripts/atlas.ts --help
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { AtlasInputError, readReport, readSweeps } from "../src/atlas/read.ts";
import { buildSite, shippedFacts, writeSite } from "../src/atlas/site.ts";

const help =
  `Usage: deno run -A scripts/atlas.ts SWEEP_DIR... [--analysis REPORT_DIR] --out SITE_DIR

Builds a static site of the most exciting inputs of every searched neuron: an index of the
models, checkpoints and layers; a page per layer and checkpoint with every neuron's MEI
(sortable, filterable); a page per neuron with its MEIs by method and checkpoint, class
probabilities and convergence curves; a method comparison. With --analysis, pages add the
selectivity labels, summaries and the top natural images. Open SITE_DIR/index.html in a
browser (no server needed); an atlas already at SITE_DIR is replaced.

  SWEEP_DIR             a folder written by scripts/sweep.ts (several are merged)
  --analysis DIR        a report folder written by scripts/analysis.ts
  --out DIR             where the site goes (required)
  --help                this text

Exit codes: 0 done, 2 bad input (nothing is written).`;

const fail: Fail = failer("atlas");

const args = parseCommandLine("atlas", help, {
  analysis: { type: "string" },
  out: { type: "string" },
}, { allowPositionals: true });
const out = args.values.out;
if (!out) fail("--out SITE_DIR is required: the folder the site is written to");
if (args.positionals.length === 0) {
  fail("no sweep folder given: pass one or more folders written by scripts/sweep.ts");
}

try {
  const t0 = performance.now();
  const sweeps = await readSweeps(args.positionals);
  for (const s of sweeps.skipped) console.error(`atlas: skipped ${s}`);
  const report = args.values.analysis ? await readReport(args.values.analysis) : undefined;
  const site = await buildSite(sweeps, report, await shippedFacts(sweeps));
  const bytes = await writeSite(site, out);
  const mb = (bytes / 2 ** 20).toFixed(2);
  console.log(
    `atlas: wrote ${out}/index.html: ${sweeps.records.length} searches, ${site.pages} pages, ` +
      `${site.images} images, ${mb} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
} catch (e) {
  if (e instanceof AtlasInputError) fail(e.message);
  throw e;
}
