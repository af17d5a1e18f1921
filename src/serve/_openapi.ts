// The OpenAPI 3.1 description of the server's HTTP API, served at GET /openapi.json.

import { defaultSettings, LIMITS } from "../models/settings.ts";
import { DEFAULT_BATCH, MAX_BATCH, MAX_BUDGET } from "./spec.ts";

const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
const error = {
  description: "refused; nothing changed",
  ...json({ $ref: "#/components/schemas/Error" }),
};
const errors = {
  "400": error,
  "401": error,
  "404": error,
  "413": error,
  "429": error,
};
const searchId = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[0-9a-f]{12}$" },
};
const key = {
  name: "Idempotency-Key",
  in: "header",
  required: true,
  description: "a retried request with the same key is acknowledged once, without effect",
  schema: { type: "string", pattern: "^[\\w.:-]{1,100}$" },
};

/** The OpenAPI document. */
export const openapi = {
  openapi: "3.1.0",
  info: {
    title: "mei-tt closed-loop server",
    version: "1",
    description:
      "Ask/tell searches for most exciting inputs, with a rig as the target: create a search, " +
      "get a batch of stimuli, post the responses, repeat; stop to export. Every request needs " +
      "`Authorization: Bearer <token>` (or HTTP Basic with the token as password).",
  },
  security: [{ bearer: [] }, { basic: [] }],
  paths: {
    "/": {
      get: {
        summary: "a page listing the searches",
        responses: { "200": { description: "HTML" } },
      },
    },
    "/openapi.json": {
      get: { summary: "this document", responses: { "200": { description: "JSON" } } },
    },
    "/searches": {
      get: {
        summary: "list the searches",
        responses: { "200": json({ type: "object" }), ...errors },
      },
      post: {
        summary: "create a search",
        parameters: [key],
        requestBody: { required: true, ...json({ $ref: "#/components/schemas/SearchSpec" }) },
        responses: { "201": json({ $ref: "#/components/schemas/State" }), "409": error, ...errors },
      },
    },
    "/searches/{id}": {
      get: {
        summary: "evaluations, best so far with its image, convergence history",
        parameters: [searchId],
        responses: { "200": json({ $ref: "#/components/schemas/State" }), ...errors },
      },
    },
    "/searches/{id}/next": {
      get: {
        summary: "the current batch (the same until every stimulus in it is answered)",
        parameters: [searchId, {
          name: "images",
          in: "query",
          schema: { enum: ["base64"] },
          description: "include each PNG as base64",
        }],
        responses: { "200": json({ $ref: "#/components/schemas/Batch" }), ...errors },
      },
    },
    "/searches/{id}/responses": {
      post: {
        summary: "responses to stimuli of the current batch (committed before the reply)",
        parameters: [searchId, key],
        requestBody: { required: true, ...json({ $ref: "#/components/schemas/Responses" }) },
        responses: {
          "200": json({ $ref: "#/components/schemas/Ack" }),
          "409": error,
          "422": error,
          ...errors,
        },
      },
    },
    "/searches/{id}/stimuli/{stimulus}.png": {
      get: {
        summary: "a stimulus image",
        parameters: [searchId, {
          name: "stimulus",
          in: "path",
          required: true,
          schema: { type: "string", pattern: "^s[0-9]{1,7}$" },
        }],
        responses: { "200": { description: "PNG", content: { "image/png": {} } }, ...errors },
      },
    },
    "/searches/{id}/stop": {
      post: {
        summary:
          "stop the search and write its output folder (as scripts/mei.ts writes; null while no generation of responses is complete)",
        parameters: [searchId],
        responses: {
          "200": json({ type: "object", properties: { folder: { type: "string" } } }),
          ...errors,
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer" },
      basic: { type: "http", scheme: "basic" },
    },
    schemas: {
      Error: {
        type: "object",
        properties: { error: { type: "string" }, status: { type: "integer" } },
      },
      SearchSpec: {
        type: "object",
        required: ["generator", "method", "budget"],
        additionalProperties: false,
        properties: {
          name: { type: "string", maxLength: 80 },
          generator: { type: "string", description: "e.g. sngan, vqvae" },
          method: { type: "string", description: "any registered optimizer, e.g. tt-b" },
          params: { type: "object" },
          budget: { type: "integer", minimum: 1, maximum: MAX_BUDGET },
          seed: { type: "integer", minimum: 0, default: 0 },
          batchSize: { type: "integer", minimum: 1, maximum: MAX_BATCH, default: DEFAULT_BATCH },
          grid: { enum: ["uniform", "gaussian"], default: "uniform" },
          gridSize: {
            type: "integer",
            minimum: LIMITS.gridSize[0],
            maximum: LIMITS.gridSize[1],
            default: defaultSettings.gridSize,
          },
          range: {
            type: "array",
            items: { type: "number" },
            minItems: 2,
            maxItems: 2,
            default: defaultSettings.range,
          },
        },
      },
      Stimulus: {
        type: "object",
        properties: {
          id: { type: "string" },
          image: { type: "string", description: "URL of the PNG" },
          point: { type: "array", items: { type: "integer" } },
          latent: { type: "array", items: { type: "number" } },
          png: { type: "string", description: "base64, with ?images=base64" },
        },
      },
      Batch: {
        type: "object",
        properties: {
          search: { type: "string" },
          batch: { type: ["integer", "null"] },
          done: { type: "boolean" },
          stimuli: { type: "array", items: { $ref: "#/components/schemas/Stimulus" } },
        },
      },
      Responses: {
        type: "object",
        required: ["responses"],
        properties: {
          responses: {
            type: "array",
            minItems: 1,
            maxItems: 1000,
            items: {
              type: "object",
              required: ["id"],
              description:
                "exactly one of value (optionally with trials: the mean of that many), " +
                "values (repeated measurements, averaged) or failed: true (asked again later)",
              properties: {
                id: { type: "string" },
                value: { type: "number" },
                trials: { type: "integer", minimum: 1 },
                values: { type: "array", items: { type: "number" } },
                failed: { const: true },
              },
            },
          },
        },
      },
      Ack: {
        type: "object",
        properties: {
          accepted: { type: "integer" },
          failed: { type: "integer" },
          evaluations: { type: "integer" },
          open: { type: "integer" },
          done: { type: "boolean" },
          replayed: { type: "boolean" },
        },
      },
      State: { type: "object", description: "evaluations, best, history, curve, ..." },
    },
  },
};
