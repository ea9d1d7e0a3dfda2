// Reading a plan from disk for the CLI: the core's injected I/O, done with node:fs.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { analyzePlan, type PlanAnalysis, type PlanDiagnostic } from '../core';

export function readIfFile(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export function analyzePlanFile(path: string): { text: string; analysis: PlanAnalysis } {
  const abs = resolve(path);
  const text = readFileSync(abs, 'utf8');
  const analysis = analyzePlan(text, { fileName: abs, baseDir: dirname(abs), homeDir: homedir(), readFile: readIfFile });
  return { text, analysis };
}

/** `file:line:col: severity: message [code]`, 1-based like compilers print. */
export function formatDiagnostic(file: string, analysis: PlanAnalysis, d: PlanDiagnostic): string {
  const p = analysis.lines.positionAt(d.span.start);
  return `${file}:${p.line + 1}:${p.character + 1}: ${d.severity}: ${d.message} [${d.code}]`;
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
