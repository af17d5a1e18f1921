// Loading model bytes from a path, a URL (http, https, file, data, blob) or memory, with one
// clear message per failure.
import { ModelError } from "./errors.ts";
import { OnnxFormatError, parseModel } from "../onnx/model.ts";
import type { ModelInfo } from "../onnx/model.ts";

/** Where a model comes from: its bytes, a file path, or a URL. */
export type ModelSource = Uint8Array | string | URL;

/** A loaded and parsed model. */
export interface LoadedModel {
  bytes: Uint8Array;
  info: ModelInfo;
  /** A printable name of the source (path or URL, or `"<bytes>"`). */
  source: string;
}

const URL_SCHEME = /^(https?|file|data|blob):/i;

function permissionHint(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

/** Reads the bytes of a model source. */
export async function readModelBytes(model: ModelSource): Promise<[Uint8Array, string]> {
  if (model instanceof Uint8Array) return [model, "<bytes>"];
  const isUrl = model instanceof URL || URL_SCHEME.test(model);
  const source = String(model);
  if (isUrl) {
    let res: Response;
    try {
      res = await fetch(model);
    } catch (e) {
      if (permissionHint(e)) {
        const u = new URL(model);
        const flag = u.protocol === "file:" ? "--allow-read" : `--allow-net=${u.host}`;
        throw new ModelError(`no permission to load the model ${source} (run with ${flag})`, {
          cause: e,
        });
      }
      throw new ModelError(`cannot load the model ${source}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ModelError(`cannot load the model ${source}: HTTP ${res.status} ${res.statusText}`);
    }
    return [new Uint8Array(await res.arrayBuffer()), source];
  }
  try {
    return [await Deno.readFile(model), source];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ModelError(`model file not found: ${source}`, { cause: e });
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new ModelError(`model path is a directory, not an .onnx file: ${source}`, { cause: e });
    }
    if (permissionHint(e)) {
      throw new ModelError(`no permission to read the model ${source} (run with --allow-read)`, {
        cause: e,
      });
    }
    throw new ModelError(`cannot read the model ${source}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads and parses a model; corrupt bytes give a {@link ModelError} naming the source.
 * @param model bytes, path or URL
 * @param name how messages name the model (default its path or URL, `"<bytes>"` for bytes)
 */
export async function loadModel(model: ModelSource, name?: string): Promise<LoadedModel> {
  const [bytes, read] = await readModelBytes(model);
  const source = name ?? read;
  if (bytes.length === 0) throw new ModelError(`${source}: empty file, not an ONNX model`);
  try {
    return { bytes, info: parseModel(bytes), source };
  } catch (e) {
    if (e instanceof OnnxFormatError) {
      throw new ModelError(`${source}: ${e.message} (corrupt or not an .onnx file)`, { cause: e });
    }
    throw e;
  }
}
