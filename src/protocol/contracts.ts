// The cross-language contracts, loaded from contracts/ (the one place they are defined). The JSON
// files are bundled into the extension and CLI by esbuild, and RunService writes the same objects
// into the runner payload it uploads (runner/slayer_runner/contracts/), so the TypeScript side and
// the runner on a host always check against the same schemas. docs/architecture.md#contracts.
import layerMapJson from '../../contracts/layermap.schema.json';
import runConfigJson from '../../contracts/run-config.schema.json';
import runnerEventsJson from '../../contracts/runner-events.schema.json';
import importanceJson from '../../contracts/importance.schema.json';
import runDirectoryJson from '../../contracts/run-directory.json';
import trainingMemoryJson from '../../contracts/training-memory.json';
import limitsJson from '../../contracts/limits.json';
import { Schema, type JsonSchema } from './jsonSchema';

export const LAYER_MAP_SCHEMA = new Schema(layerMapJson as unknown as JsonSchema);
export const RUN_CONFIG_SCHEMA = new Schema(runConfigJson as unknown as JsonSchema);
export const RUNNER_EVENTS_SCHEMA = new Schema(runnerEventsJson as unknown as JsonSchema);
export const IMPORTANCE_SCHEMA = new Schema(importanceJson as unknown as JsonSchema);

/** File names inside a run directory on a host. */
export const RUN_FILES: Readonly<typeof runDirectoryJson.files> = runDirectoryJson.files;
/** File names inside a run directory's out/. */
export const RUN_OUT_FILES: Readonly<typeof runDirectoryJson.out> = runDirectoryJson.out;

export type MemoryPrecision = keyof typeof trainingMemoryJson.bytesPerParameter;
export interface BytesPerParameter { weights: number; gradients: number; master: number; optimizer: number }
export const BYTES_PER_PARAMETER: Readonly<Record<MemoryPrecision, BytesPerParameter>> = trainingMemoryJson.bytesPerParameter;

/** Every contract file by name, as the runner payload carries them. */
export const CONTRACT_FILES: Readonly<Record<string, unknown>> = {
  'layermap.schema.json': layerMapJson,
  'run-config.schema.json': runConfigJson,
  'runner-events.schema.json': runnerEventsJson,
  'importance.schema.json': importanceJson,
  'run-directory.json': runDirectoryJson,
  'training-memory.json': trainingMemoryJson,
  'limits.json': limitsJson,
};

/** The strings of an `enum` under `$defs/name` (phases, importance metrics). */
export function enumOf<T extends string>(schema: Schema, def: string): readonly T[] {
  const values = schema.def(def).enum;
  if (!Array.isArray(values)) throw new Error(`$defs/${def} is not an enum`);
  return values as T[];
}
