// scripts/serve.ts as a child process, started and waited for until it listens: shared by
// tests/serve_e2e_test.ts and scripts/bench_serve.ts.

/** A running server. */
export interface ServerChild {
  child: Deno.ChildProcess;
  /** Its base URL, e.g. `http://127.0.0.1:8700`. */
  url: string;
  port: number;
  /** Everything it has logged so far (its standard error, read to the end as it comes). */
  log(): string;
  /** Resolves when its log has ended (the process has closed standard error). */
  logEnded: Promise<void>;
}

const LISTENING = /listening on (http:\/\/[^\s/]+)\//;

/**
 * Start scripts/serve.ts on a data folder and a port (0: any free one).
 * @param data the server's data folder
 * @param port the port
 * @param extra more options of scripts/serve.ts
 * @returns the server, once it listens
 * @throws Error with its log when it exits before listening
 */
export async function startServer(
  data: string,
  port: number,
  extra: string[] = [],
): Promise<ServerChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("serve.ts", import.meta.url).pathname,
      "--data",
      data,
      "--port",
      String(port),
      ...extra,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!LISTENING.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server did not start: ${text}`);
    text += value;
  }
  // Keep reading, so that the server never blocks on a full pipe.
  const logEnded = (async () => {
    for (let chunk; !(chunk = await reader.read()).done;) text += chunk.value;
  })();
  const url = LISTENING.exec(text)![1];
  return { child, url, port: Number(new URL(url).port), log: () => text, logEnded };
}
