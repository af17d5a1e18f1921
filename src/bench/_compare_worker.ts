/**
 * A Web Worker that runs comparison tasks (`compare.ts`) sent to it, one message per task,
 * and posts each result back.
 *
 * @module
 */
/// <reference lib="deno.worker" />

import { runTask, type Task } from "./compare.ts";

self.onmessage = async (e: MessageEvent<Task>) => {
  self.postMessage(await runTask(e.data));
};
