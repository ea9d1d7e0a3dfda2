// Measured layer importance the server can offer suggestions from: the runs' importance.json that
// Fetch Run Artifacts put in the workspace (`.slayer/runs/ID/out/importance.json`, the same files
// the importance view reads). Read lazily, kept briefly, and dropped when a watched importance.json
// changes; a file that is too large or malformed is skipped.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { measuredOnPlanModel } from '@slayer/core';
import { MAX_RUN_JSON_BYTES } from '@slayer/core/limits';
import { readRegularFileSync } from '@slayer/modelfiles/regularFile';
import { validateImportanceFile, type ImportanceFile } from '@slayer/protocol/runnerEvents';

const TTL_MS = 5_000;
const MAX_RUNS = 200;

export interface FoundImportance {
  file: ImportanceFile;
  /** The file's path, for the action's title and the log. */
  path: string;
  /** The plan the measuring run compiled (its layermap.json), when fetched with it. */
  runPlanFile: string | null;
  mtimeMs: number;
}

export class ImportanceIndex {
  private folders: string[] = [];
  private cache: { at: number; found: FoundImportance[] } | null = null;

  setFolders(folders: string[]): void {
    this.folders = folders;
    this.cache = null;
  }

  invalidate(): void {
    this.cache = null;
  }

  /** The newest measurement of the plan's model (same name and depth, or a run of this plan). */
  forPlan(model: { id: string; numLayers: number }, planFile: string | null): FoundImportance | null {
    return this.all().find((f) => measuredOnPlanModel({ ref: f.file.model, numLayers: f.file.num_layers, runPlanFile: f.runPlanFile }, { ...model, planFile })) ?? null;
  }

  private all(): FoundImportance[] {
    const now = Date.now();
    if (!this.cache || now - this.cache.at > TTL_MS) this.cache = { at: now, found: this.scan() };
    return this.cache.found;
  }

  private scan(): FoundImportance[] {
    const out: FoundImportance[] = [];
    for (const folder of this.folders) {
      const runs = join(folder, '.slayer', 'runs');
      let ids: string[];
      try {
        ids = readdirSync(runs).slice(0, MAX_RUNS);
      } catch {
        continue;
      }
      for (const id of ids) {
        for (const rel of ['out/importance.json', 'importance.json']) {
          const path = join(runs, id, rel);
          const found = readMeasurement(path, join(runs, id, 'layermap.json'));
          if (found) {
            out.push(found);
            break;
          }
        }
      }
    }
    return out.sort((a, b) => b.mtimeMs - a.mtimeMs);
  }
}

function readMeasurement(path: string, layerMapPath: string): FoundImportance | null {
  try {
    const text = readRegularFileSync(path, MAX_RUN_JSON_BYTES);
    if (text === undefined) return null;
    const file = validateImportanceFile(JSON.parse(text));
    return { file, path, runPlanFile: planFileOf(layerMapPath), mtimeMs: statSync(path).mtimeMs };
  } catch {
    return null;
  }
}

function planFileOf(layerMapPath: string): string | null {
  try {
    const text = readRegularFileSync(layerMapPath, MAX_RUN_JSON_BYTES);
    const file = text === undefined ? null : (JSON.parse(text) as { plan?: { file?: unknown } }).plan?.file;
    return typeof file === 'string' ? file : null;
  } catch {
    return null;
  }
}
