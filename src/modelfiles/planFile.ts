// Reading a plan from disk for the CLI and the extension: the core's injected I/O, done with node:fs
// (regular files only, within the size limits of docs/limits.md).
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { analyzePlan, formatDiagnostic, type PlanAnalysis } from '../core';
import { MAX_CONFIG_BYTES, MAX_PLAN_CHARS } from '../core/limits';
import { FileRefusedError, readRegularFileSync } from './regularFile';

/** A model's config.json: undefined when missing; throws when refused (too large, not a regular file). */
export function readIfFile(path: string): string | undefined {
  try {
    return readRegularFileSync(path, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof FileRefusedError) throw e;
    return undefined;
  }
}

/** Reads and analyses a plan; throws with a reason when the file is missing, refused or unreadable. */
export function analyzePlanFile(path: string): { text: string; analysis: PlanAnalysis } {
  const abs = resolve(path);
  // UTF-8 takes at most 3 bytes per UTF-16 unit; the character limit itself is analyzePlan's.
  const text = readRegularFileSync(abs, MAX_PLAN_CHARS * 3);
  if (text === undefined) throw new Error('no such file');
  const analysis = analyzePlan(text, { fileName: abs, baseDir: dirname(abs), homeDir: homedir(), readFile: readIfFile });
  return { text, analysis };
}

export class PlanHasErrors extends Error {
  constructor(readonly file: string, readonly lines: string[]) {
    super(`${file} has errors:\n${lines.join('\n')}`);
    this.name = 'PlanHasErrors';
  }
}

/** Compiles a plan file to its LayerMap, or throws PlanHasErrors listing the errors. */
export function compilePlanFile(path: string): NonNullable<PlanAnalysis['layerMap']> {
  const { analysis } = analyzePlanFile(path);
  if (!analysis.layerMap) {
    const errs = analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(path, analysis, d));
    throw new PlanHasErrors(path, errs.length ? errs : ['the plan does not compile (no model shape or expansion)']);
  }
  return analysis.layerMap;
}
