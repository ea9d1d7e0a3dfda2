// The language server's hook for a plan whose model is a local checkpoint directory: config.json
// plus every shard's header (never tensor data), inspected. Never throws for a bad checkpoint —
// unreadable headers become an error diagnostic next to whatever config.json says.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { INDEX_FILE, type Checkpoint } from './checkpoint';
import { MAX_CONFIG_BYTES } from '../core/limits';
import { readCheckpoint } from './files';
import { memberExists, memberPath } from './members';
import { inspect, type CheckpointReport } from './inspect';
import { FileRefusedError, readRegularFile } from './regularFile';
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
  let configRefused: string | undefined;
  try {
    // The member rule first (as the runner's): a config.json symlinked out of the checkpoint is refused.
    if (await memberExists(dir, 'config.json')) configJson = await readRegularFile(await memberPath(dir, 'config.json'), MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof FileRefusedError) configRefused = `${join(dir, 'config.json')} ${e.message}`;
    else if (e instanceof SafetensorsError) configRefused = e.message;
    else throw e;
  }
  let checkpoint: Checkpoint | null = null;
  let error: SafetensorsError | undefined;
  try {
    checkpoint = await readCheckpoint(dir);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    error = e;
  }
  const report = inspect(dir, checkpoint, configJson, error);
  if (configRefused) {
    report.diagnostics = report.diagnostics.filter((d) => d.code !== 'no-config');
    report.diagnostics.unshift({ severity: 'error', code: 'config', message: configRefused });
  }
  return { checkpoint, configJson, report };
}

/**
 * Cached inspections for the language server, which asks on every edit. An entry is reused while
 * the directory (files added, removed or renamed), config.json and the index keep their mtime and
 * size — three stats instead of reading every header. Concurrent requests share one read.
 */
export class LocalCheckpointCache {
  private entries = new Map<string, { signature: string; value: Promise<InspectedCheckpoint> }>();

  async get(dir: string): Promise<InspectedCheckpoint> {
    const signature = await statSignature(dir);
    const hit = this.entries.get(dir);
    if (hit && hit.signature === signature) return hit.value;
    const value = loadAndInspect(dir);
    this.entries.set(dir, { signature, value });
    value.catch(() => {
      if (this.entries.get(dir)?.value === value) this.entries.delete(dir);
    });
    return value;
  }

  invalidate(dir?: string): void {
    if (dir === undefined) this.entries.clear();
    else this.entries.delete(dir);
  }
}

async function statSignature(dir: string): Promise<string> {
  const one = async (p: string): Promise<string> => {
    try {
      const s = await fsp.stat(p);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return '-';
    }
  };
  return (await Promise.all([one(dir), one(join(dir, 'config.json')), one(join(dir, INDEX_FILE))])).join('|');
}
