// What a checkpoint's safetensors headers say about the plan's model, beyond config.json:
// missing blocks, config.json disagreeing with the tensors (layer count, shapes, vocab), unreadable
// headers. Headers are read off the keystroke path (LocalCheckpointCache: three stats when nothing
// changed); a finding that changes fires `onChange` so documents are checked again. A directory
// with config.json and no weights (tiny-model runs) has no findings. Remote checkpoints' findings
// come with the client's answer (RemoteModelConfigResult.findings).
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { PlanAnalysis } from '@slayer/core';
import { LocalCheckpointCache, type InspectedCheckpoint } from '@slayer/modelfiles';
import { checkpointFindings, type CheckpointFinding } from '@slayer/protocol/languageServer';
import { toRange } from './service/ranges';

export class CheckpointChecks {
  /** Bumped whenever a finding changes. */
  generation = 0;
  private cache = new LocalCheckpointCache();
  private latest = new Map<string, InspectedCheckpoint>();
  /** What the findings of each directory were, to tell a change from a re-read. */
  private shown = new Map<string, string>();
  private inFlight = new Set<string>();

  constructor(private readonly onChange: () => void, private readonly remoteFindings: (ref: string) => CheckpointFinding[] = () => []) {}

  /**
   * Findings for the analysis's model: a local directory as last read (a cheap re-check starts),
   * or a remote checkpoint as the client's scan reported it.
   */
  diagnostics(a: PlanAnalysis, docsUrl: string): Diagnostic[] {
    const m = a.model;
    if (!m || !m.shape || m.source === 'catalogue') return [];
    let found: CheckpointFinding[];
    if (m.source === 'remote') found = this.remoteFindings(m.id);
    else {
      this.refresh(m.id);
      found = findings(this.latest.get(m.id));
    }
    return found.map((d) => ({
        range: toRange(a.lines, m.ref.span),
        severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        code: 'SL012',
        codeDescription: { href: `${docsUrl}#sl012` },
        source: 'slayer',
        message: `the checkpoint's weights: ${d.message}`,
      }));
  }

  invalidate(): void {
    this.cache.invalidate();
  }

  private refresh(dir: string): void {
    if (this.inFlight.has(dir)) return;
    this.inFlight.add(dir);
    this.cache.get(dir).then(
      (r) => {
        this.inFlight.delete(dir);
        if (this.latest.get(dir) === r) return;
        this.latest.set(dir, r);
        const key = JSON.stringify(findings(r));
        if ((this.shown.get(dir) ?? '[]') === key) return;
        this.shown.set(dir, key);
        this.generation++;
        this.onChange();
      },
      () => {
        // An I/O error other than a bad checkpoint: no findings; the next edit tries again.
        this.inFlight.delete(dir);
      },
    );
  }
}

/** Warnings and errors of a local checkpoint as last read (none before the first read). */
function findings(r: InspectedCheckpoint | undefined): CheckpointFinding[] {
  return r ? checkpointFindings(r.report) : [];
}
