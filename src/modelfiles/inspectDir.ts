// The language server's hook for a plan whose model is a local checkpoint directory: config.json
// plus every shard's header (never tensor data), inspected. Never throws for a bad checkpoint —
// unreadable headers become an error diagnostic next to whatever config.json says.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint } from './checkpoint';
import { readCheckpoint } from './files';
import { inspect, type CheckpointReport } from './inspect';
import { SafetensorsError } from './safetensors';

export interface InspectedCheckpoint {
  /** The checkpoint when its headers read cleanly (for similarity or tensor reads). */
  checkpoint: Checkpoint | null;
  configJson: string | null;
  report: CheckpointReport;
}

/** Reads `dir`'s config.json and safetensors headers and inspects them. */
export async function loadAndInspect(dir: string): Promise<InspectedCheckpoint> {
  let configJson: string | null = null;
  try {
    configJson = await fsp.readFile(join(dir, 'config.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
  }
  let checkpoint: Checkpoint | null = null;
  let error: string | undefined;
  try {
    checkpoint = await readCheckpoint(dir);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    error = e.message;
  }
  return { checkpoint, configJson, report: inspect(dir, checkpoint, configJson, error) };
}

/** The hook: the report (shape, per-block counts, attention layout, diagnostics) for `dir`. */
export async function inspectCheckpoint(dir: string): Promise<CheckpointReport> {
  return (await loadAndInspect(dir)).report;
}
