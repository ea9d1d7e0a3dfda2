// A plan in words, as `slayer explain` prints it and the editor's Explain Plan shows it: the
// resulting blocks with their sources and init, the deleted blocks, parameter and memory totals;
// and one diagnostic as a compiler prints it. Pure text from an analysis (no I/O).
import { formatBytes, formatCount, withThousands } from '../shared/format';
import type { PlanAnalysis } from './analyze';
import type { PlanDiagnostic } from './diagnostics';

/** `file:line:col: severity: message [code]`, 1-based like compilers print. */
export function formatDiagnostic(file: string, analysis: PlanAnalysis, d: PlanDiagnostic): string {
  const p = analysis.lines.positionAt(d.span.start);
  return `${file}:${p.line + 1}:${p.character + 1}: ${d.severity}: ${d.message} [${d.code}]`;
}

function sources(b: NonNullable<PlanAnalysis['layout']>['blocks'][number]): string {
  const s = b.sources.map((x) => `${x.layer} (${x.layer + 1})`);
  if (b.sources.length === 1) return s[0]!;
  return `mean(${s.join(', ')})`;
}

export function explainText(file: string, a: PlanAnalysis): string {
  const out: string[] = [];
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (!a.layout || !a.params || !a.model?.shape) {
    out.push(`${file}: cannot explain: the plan does not compile`);
    for (const d of errors) out.push(`  ${formatDiagnostic(file, a, d)}`);
    return `${out.join('\n')}\n`;
  }
  const L = a.layout.baseLayers;
  const shape = a.model.shape;
  out.push(`plan     ${file}`);
  out.push(`model    ${a.model.id} (${shape.modelType}, ${L} blocks, hidden ${shape.hiddenSize}, MLP ${shape.intermediateSize}, heads ${shape.numHeads}/${shape.numKvHeads} kv, vocab ${shape.vocabSize}${shape.tieEmbeddings ? ', tied embeddings' : ''})`);
  out.push(`expand   ${a.canonicalExpansion}   init ${a.init}, train ${a.train.join(', ')}`);
  out.push('');
  const rows = a.layout.blocks.map((b) => [
    String(b.index), b.role, sources(b), b.init,
    b.zero.length ? b.zero.map((z) => z.replace(/\.weight$/, '').replace(/^(self_attn|mlp)\./, '')).join(', ') : '—',
    b.trainable ? 'yes' : '',
  ]);
  const head = ['out', 'role', 'source block(s) 0-based (paper 1-based)', 'init', 'zeroed', 'trainable'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  out.push(line(head));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(line(r));
  out.push('');
  const D = a.layout.deleted.length;
  out.push(`deleted  ${D ? a.layout.deleted.map((d) => `${d} (${d + 1})`).join(', ') : 'none'}`);
  out.push(`depth    ${L} + ${a.layout.newCount} new − ${D} deleted = ${a.layout.numLayers} blocks`);
  const p = a.params;
  out.push(`params   total ${withThousands(p.total)} (${formatCount(p.total)}), base ${withThousands(p.base)}`);
  out.push(`         trainable ${withThousands(p.trainable)} (${formatCount(p.trainable)}): blocks ${withThousands(p.trainableBlocks)}, with the head ${withThousands(a.trainableWithHead ?? 0)}`);
  out.push(`         per block ${withThousands(p.perBlock)}, embeddings ${withThousands(p.embed)}, head ${withThousands(p.head)}${shape.tieEmbeddings ? ' (tied)' : ''}`);
  if (a.memory) {
    const g = a.memory.ddp.gpus;
    out.push(`memory   per GPU before activations (bf16 weights + grads, fp32 master + AdamW for the trainable set):`);
    out.push(`         DDP over ${g} GPU${g > 1 ? 's' : ''}: ${formatBytes(a.memory.ddp.total)}; fully sharded (FSDP): ${formatBytes(a.memory.fsdp.total)}`);
  }
  const warnings = a.diagnostics.filter((d) => d.severity === 'warning' || d.severity === 'error');
  if (warnings.length) {
    out.push('');
    for (const d of warnings) out.push(formatDiagnostic(file, a, d));
  }
  return `${out.join('\n')}\n`;
}
