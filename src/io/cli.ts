/**
 * The command line of the scripts, in one place: strict parsing of the options (values that
 * start with a dash included, as in `--range -4,4`), one-line messages for bad arguments (the
 * closest option for a misspelt one), `--help` / `-h`, and exit code 2 on bad input.
 *
 * A script names itself once for its messages (`sweep: ...`); its own checks use the same
 * `fail`. Declare `fail` with its type, `const fail: Fail = ...`: TypeScript narrows after a
 * call that returns `never` only through a name declared with an explicit type.
 *
 * @example
 * ```ts
 * import { type Fail, failer, parseCommandLine } from "./cli.ts";
 *
 * const help = "Usage: tool [--out DIR] [--range LO,HI] [--json]";
 * const fail: Fail = failer("tool");
 * const { values } = parseCommandLine("tool", help, {
 *   out: { type: "string", default: "runs" },
 *   range: { type: "string" },
 *   json: { type: "boolean" },
 * }, { args: ["--range", "-4,4", "--json"] });
 * if (values.range !== "-4,4" || values.out !== "runs" || !values.json) fail("not parsed");
 * ```
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { closeMatches } from "../runtime/mod.ts";

/** The option every command line has: print the help text and exit 0. */
const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** A script's exit on bad input: prints `name: message` on standard error and exits 2. */
export type Fail = (message: string) => never;

/** What {@link parseCommandLine} returns: the values (typed by the options) and positionals. */
export type CommandLine<O extends ParseArgsOptionsConfig, P extends boolean> = ReturnType<
  typeof parseArgs<{ options: O & typeof HELP_OPTION; allowPositionals: P; strict: true }>
>;

/** Settings of {@link parseCommandLine}. */
export interface CommandLineConfig<P extends boolean> {
  /** Whether arguments other than options are allowed (default false). */
  allowPositionals?: P;
  /** The arguments (default `Deno.args`). */
  args?: string[];
}

/**
 * The exit on bad input of a script.
 * @param name the script's name, the first word of its messages
 * @returns a function that prints `name: message` on standard error and exits with code 2
 */
export function failer(name: string): Fail {
  return (message) => {
    console.error(`${name}: ${message}`);
    Deno.exit(2);
  };
}

/**
 * Parse a script's command line strictly. On a bad argument it prints one line,
 * `name: <what is wrong> (see --help)`, and exits 2; with `--help` or `-h` it prints the help
 * text and exits 0. `--help` is added to the options.
 * @param name the script's name, the first word of its messages
 * @param help the text `--help` prints
 * @param options the options, as node:util `parseArgs` takes them
 * @param config positionals allowed, and the arguments when they are not `Deno.args`
 * @returns the option values and the positionals
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig, P extends boolean = false>(
  name: string,
  help: string,
  options: O,
  config: CommandLineConfig<P> = {},
): CommandLine<O, P> {
  const all = { ...options, ...HELP_OPTION };
  const fail: Fail = failer(name);
  let parsed: CommandLine<O, P>;
  try {
    parsed = parseArgs({
      args: joinValues(config.args ?? Deno.args, all),
      options: all,
      allowPositionals: config.allowPositionals ?? false,
      strict: true,
    }) as CommandLine<O, P>;
  } catch (e) {
    fail(`${argumentError(e as Error, Object.keys(all))} (see --help)`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    Deno.exit(0);
  }
  return parsed;
}

/**
 * The arguments with `--option value` joined into `--option=value` for options that take a
 * value, so values that start with a dash (`--range -4,4`, `--neurons -1`) reach the checks.
 * Arguments after `--` are left as they are.
 */
function joinValues(args: string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") return [...out, ...args.slice(i)];
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const takesValue = Object.hasOwn(options, name) && options[name].type === "string";
    if (takesValue && i + 1 < args.length) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]);
  }
  return out;
}

/** A parseArgs error in one line, with the closest option for a misspelt one. */
function argumentError(e: Error, names: string[]): string {
  const code = (e as Error & { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(e.message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const close = closeMatches(option.replace(/^-+/, "").split("=")[0], names, 1);
    return `unknown option ${option}` + (close.length ? `; did you mean --${close[0]}?` : "");
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /argument missing/.test(e.message)
      ? `option ${option} needs a value`
      : `option ${option} takes no value`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const arg = /'([^']*)'/.exec(e.message)?.[1] ?? "";
    return `unexpected argument "${arg}" (options start with --)`;
  }
  return e.message.split("\n")[0];
}
