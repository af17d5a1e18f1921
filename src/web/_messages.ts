// The messages between the web page and its search worker (src/web/worker.ts).
import type { LayerInfo } from "../runtime/mod.ts";
import type { MeiSettings } from "../models/settings.ts";

/** A model file the user picked: the worker reads it through a blob: URL. */
export interface PickedFile {
  /** The blob: URL of the file, with `#<name>` so that it ends in `.onnx`. */
  url: string;
  /** The file's name, which messages show instead of the URL. */
  name: string;
}

/** Page to worker. */
export type ToWorker =
  | { kind: "layers"; settings: MeiSettings; ort: string; files: PickedFile[] }
  | { kind: "start"; settings: MeiSettings; ort: string; files: PickedFile[] }
  | { kind: "stop" }
  | {
    kind: "bench";
    settings: MeiSettings;
    ort: string;
    files: PickedFile[];
    /** Images per batch, seconds per round and of warm-up (see `imagesPerSecond`). */
    batch: number;
    seconds: number;
    warmup: number;
  };

/** An image, RGBA 8 bits. */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

/** Worker to page. */
export type FromWorker =
  | { kind: "layers"; source: string; layers: LayerInfo[] }
  | { kind: "opened"; neurons: number[]; backend: string; threads: number; notes: string[] }
  | {
    kind: "progress";
    images: number;
    evaluations: number;
    best: number[];
    /** Seconds since the search began. */
    seconds: number;
  }
  | { kind: "best"; picture: Picture; images: number }
  | {
    kind: "done";
    /** run.json, history.json and mei.png, by name. */
    files: Record<string, Uint8Array<ArrayBuffer>>;
    interrupted: boolean;
    values: number[];
  }
  | {
    kind: "bench";
    imagesPerSecond: number;
    msPerBatch: number;
    backend: string;
    threads: number;
  }
  | { kind: "error"; message: string };
