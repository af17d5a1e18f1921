// The scripts' command line (src/io/cli.ts): values parsed in process (values that start with a
// dash, repeated options, positionals after "--"); bad arguments, --help and fail in a spawned
// script, against the exact line each should print and its exit code.
import { deepStrictEqual as assertEquals } from "node:assert";
import { parseCommandLine } from "../src/io/cli.ts";

const OPTIONS = {
  range: { type: "string" },
  count: { type: "string", default: "3" },
  json: { type: "boolean" },
  tags: { type: "string", multiple: true },
} as const;
const HELP = "Usage: demo [--range LO,HI] [--count N] [--json] [--tags T]...";

Deno.test("cli: values that start with a dash, defaults, repeated options", () => {
  const { values, positionals } = parseCommandLine("demo", HELP, OPTIONS, {
    args: ["--range", "-4,4", "--tags", "-a", "--tags", "b", "--json"],
  });
  // Typed by the options: a string with a default, a string[] for a repeated option.
  const count: string = values.count, tags: string[] | undefined = values.tags;
  assertEquals(
    { range: values.range, count, tags, json: values.json, positionals },
    { range: "-4,4", count: "3", tags: ["-a", "b"], json: true, positionals: [] },
  );
});

Deno.test("cli: positionals when allowed; after -- an option name is a positional", () => {
  const { values, positionals } = parseCommandLine("demo", HELP, OPTIONS, {
    allowPositionals: true,
    args: ["a", "--count", "7", "--", "--range", "b"],
  });
  const list: string[] = positionals;
  assertEquals({ count: values.count, range: values.range, list }, {
    count: "7",
    range: undefined,
    list: ["a", "--range", "b"],
  });
});

Deno.test("cli: bad arguments print one line and exit 2; --help prints the help and exits 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cli = new URL("../src/io/cli.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/demo.ts`,
      `import { type Fail, failer, parseCommandLine } from "${cli}";
const fail: Fail = failer("demo");
const { values } = parseCommandLine("demo", ${JSON.stringify(HELP)}, ${JSON.stringify(OPTIONS)});
if (values.count === "0") fail("--count must be an integer >= 1, got 0");
console.log("ran");
`,
    );
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", `${dir}/demo.ts`, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
    };
    const err = (line: string) => ({ code: 2, stdout: "", stderr: `demo: ${line}\n` });
    const cases: [string[], { code: number; stdout: string; stderr: string }][] = [
      [["--rnage", "1,2"], err("unknown option --rnage; did you mean --range? (see --help)")],
      [["--jsn=1"], err("unknown option --jsn; did you mean --json? (see --help)")],
      [["--zzzzzzzz"], err("unknown option --zzzzzzzz (see --help)")],
      [["--count"], err("option --count needs a value (see --help)")],
      [["--json=yes"], err("option --json takes no value (see --help)")],
      [
        ["--json", "stray"],
        err('unexpected argument "stray" (options start with --) (see --help)'),
      ],
      [["--count", "0"], err("--count must be an integer >= 1, got 0")],
      [["--help"], { code: 0, stdout: `${HELP}\n`, stderr: "" }],
      [["--range", "-1,1", "-h"], { code: 0, stdout: `${HELP}\n`, stderr: "" }],
      [["--range", "-1,1", "--count", "2"], { code: 0, stdout: "ran\n", stderr: "" }],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    cases.forEach(([args, expected], i) => assertEquals(results[i], expected, args.join(" ")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
