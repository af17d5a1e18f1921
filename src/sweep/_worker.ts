// A sweep worker process (started by run.ts): reads its settings, then one group at a time
// from standard input as JSON lines, runs it on models it opens once, writes the group's images
// into the sweep folder and answers its records on standard output. It exits when standard
// input closes, at once, even in the middle of a group (the parent was stopped or killed).

import { SearchHost } from "./_search.ts";
import { executeGroup, jsonLines } from "./run.ts";
import type { PlannedGroup } from "./plan.ts";
import type { SweepSpec } from "./spec.ts";
import type { HostOptions, TargetInfo } from "./_search.ts";

const encoder = new TextEncoder(), out = Deno.stdout.writable.getWriter();
const reply = (x: unknown) => out.write(encoder.encode(JSON.stringify(x) + "\n"));

const waiting: ((line: Record<string, unknown> | undefined) => void)[] = [];
const queued: Record<string, unknown>[] = [];
(async () => {
  for await (const line of jsonLines(Deno.stdin.readable)) {
    const w = waiting.shift();
    if (w) w(line);
    else queued.push(line);
  }
  Deno.exit(0);
})();
const next = () =>
  queued.length
    ? Promise.resolve(queued.shift())
    : new Promise<Record<string, unknown> | undefined>((r) => waiting.push(r));

const init = (await next()) as {
  spec: SweepSpec;
  dir: string;
  targets: Record<string, TargetInfo>;
  host: HostOptions;
};
const host = new SearchHost(init.spec, init.host);
for (;;) {
  const group = (await next()) as unknown as PlannedGroup;
  try {
    await reply(await executeGroup(host, init.spec, init.dir, group, init.targets));
  } catch (e) {
    await reply({ error: (e as Error).message });
    Deno.exit(1);
  }
}
