// Hovers. On the expansion: the table of resulting blocks, the depth L + N − D, parameters
// (total; trainable in blocks and with the head) and training memory per GPU; on a segment, the
// original blocks it covers first. On the model: what it resolved to. On keys and values: docs.
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { blockRange, catalogueTask, type PlanAnalysis, type SegmentLayout, type Setting, type SweepVariant } from '@slayer/core';
import { formatBytes, formatCount, withThousands } from '@slayer/shared/format';
import { taskDoc } from './completion';
import { EVAL_KEY_DOCS, EVAL_OPTION_DOCS, KEY_DOCS, VALUE_DOCS } from './keyDocs';
import { spanContains, toRange } from './ranges';

const md = (value: string, a: PlanAnalysis, span: { start: number; end: number }): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range: toRange(a.lines, span) });

export function hover(a: PlanAnalysis, pos: Position): Hover | null {
  const offset = a.lines.offsetAt(pos);
  const line = a.ast.lines[pos.line];
  if (!line) return null;
  const variant = a.sweep?.variants.find((v) => spanContains(v.nameSpan, offset) && offset < v.nameSpan.end);
  if (variant) return variantHover(a, variant);
  const inEval = line.kind === 'setting' && a.ast.evals.some((e) => e.settings.includes(line.settings[0]!));
  for (const s of line.settings) {
    if (inEval) return evalHover(a, s, offset);
    if (spanContains(s.key.span, offset) && offset < s.key.span.end) {
      const doc = KEY_DOCS[s.key.text];
      return doc ? md(`**${s.key.text}** — ${doc}`, a, s.key.span) : null;
    }
    if (!spanContains(s.value.span, offset) || s.args.length === 0) continue;
    if (line.kind === 'statement' && s.key.text === 'expand' && a.ast.expansion?.statement.span.start === s.span.start) return expansionHover(a, offset, s);
    if (line.kind === 'statement' && s.key.text === 'model') return modelHover(a, s);
    const w = s.args.find((x) => spanContains(x.span, offset));
    if (!w) return null;
    if (s.key.text === 'run' && KEY_DOCS[w.text]) return md(`**${w.text}** — ${KEY_DOCS[w.text]}`, a, w.span);
    // A comma-separated list word: find the item under the cursor.
    let off = w.span.start;
    for (const part of w.text.split(',')) {
      if (offset >= off && offset <= off + part.length && VALUE_DOCS[part]) return md(`**${part}** — ${VALUE_DOCS[part]}`, a, { start: off, end: off + part.length });
      off += part.length + 1;
    }
    return null;
  }
  return null;
}

function evalHover(a: PlanAnalysis, s: Setting, offset: number): Hover | null {
  if (spanContains(s.key.span, offset) && offset < s.key.span.end) {
    const doc = EVAL_KEY_DOCS[s.key.text];
    return doc ? md(`**${s.key.text}** — ${doc}`, a, s.key.span) : null;
  }
  const w = s.args.find((x) => spanContains(x.span, offset));
  if (!w) return null;
  if (s.key.text === 'domain' || s.key.text === 'general') {
    if (w === s.args[0]) {
      const t = catalogueTask(w.text);
      if (t) return md(taskDoc(t), a, w.span);
      return md(/\.ya?ml$/i.test(w.text) ? `**${w.text}** — a local lm-evaluation-harness task config (a path on the host, like data)` : `**${w.text}** — not in the catalogue; the host's lm-evaluation-harness must know it`, a, w.span);
    }
    if (EVAL_OPTION_DOCS[w.text]) return md(`**${w.text}** — ${EVAL_OPTION_DOCS[w.text]}`, a, w.span);
  }
  return null;
}

function modelHover(a: PlanAnalysis, s: Setting): Hover | null {
  const m = a.model;
  if (!m) return null;
  if (!m.shape) return md(`**${s.value.text}** — not resolved (see the diagnostic on this line)`, a, s.value.span);
  const sh = m.shape;
  const where = m.source === 'catalogue' ? 'built-in catalogue' : m.source === 'local' ? `local checkpoint \`${m.id}\`` : `remote checkpoint \`${m.id}\``;
  const base = a.params?.base;
  return md([
    `**${m.id}** (${where})`,
    '',
    `${sh.modelType}, ${sh.numLayers} blocks (0–${sh.numLayers - 1}), hidden ${sh.hiddenSize}, MLP ${sh.intermediateSize}, ${sh.numHeads} heads / ${sh.numKvHeads} KV heads, vocab ${withThousands(sh.vocabSize)}${sh.tieEmbeddings ? ', tied embeddings' : ''}, ${sh.dtype}`,
    base !== undefined ? `\n${withThousands(base)} parameters (${formatCount(base)})` : '',
  ].join('\n'), a, s.value.span);
}

function segmentText(a: PlanAnalysis, l: SegmentLayout): string {
  const written = a.lines.text.slice(l.segment.span.start, l.segment.span.end);
  const o = l.original;
  const covers = o.end > o.start ? blockRange(o.start, o.end - 1) : 'no blocks (past the end of the model)';
  const lines = [`**Segment \`${written}\`**`, ''];
  if (l.segment.kind === 'delete') lines.push(`Deletes original ${covers}.`);
  else {
    lines.push(`Covers original ${covers}.`);
    if (l.output.end > l.output.start) lines.push(`Produces output blocks ${l.output.start}–${l.output.end - 1}.`);
    if (l.newBlocks.length) lines.push(`New blocks: ${l.newBlocks.join(', ')}.`);
    if (l.isFinal) lines.push(`This \`1\` is the updated final block (output ${l.output.start}), re-initialised and trainable.`);
  }
  return lines.join('\n');
}

function expansionHover(a: PlanAnalysis, offset: number, s: Setting): Hover {
  const layout = a.layout;
  const parts: string[] = [];
  const seg = layout?.segments.find((l) => offset >= l.segment.span.start && offset <= l.segment.span.end);
  if (seg) parts.push(segmentText(a, seg), '', '---', '');
  if (!layout || !a.model?.shape) {
    parts.push(a.canonicalExpansion ? `\`${a.canonicalExpansion}\`: the blocks are shown once the model resolves.` : 'The expression does not parse yet.');
    return md(parts.join('\n'), a, seg ? seg.segment.span : s.value.span);
  }
  const L = layout.baseLayers;
  const N = layout.newCount;
  const D = layout.deleted.length;
  parts.push(`**${a.canonicalExpansion ?? s.value.text}** on ${a.model.id}`, '');
  parts.push(`Depth: L + N − D = ${L} + ${N} − ${D} = **${layout.numLayers}** blocks`);
  if (D) parts.push(`\nDeleted: ${layout.deleted.map((b) => `${b} (${b + 1})`).join(', ')}`);
  if (a.params) {
    const p = a.params;
    parts.push('', '| parameters | count |', '|---|---:|',
      `| total | ${withThousands(p.total)} (${formatCount(p.total)}) |`,
      `| trainable, blocks only | ${withThousands(p.trainableBlocks)} (${formatCount(p.trainableBlocks)}) |`,
      `| trainable, with the head | ${withThousands(a.trainableWithHead ?? p.trainable)} (${formatCount(a.trainableWithHead ?? p.trainable)}) |`,
      `| trainable, this plan (train ${a.train.join(', ')}) | ${withThousands(p.trainable)} (${formatCount(p.trainable)}) |`);
  }
  if (a.memory) {
    const { ddp, fsdp } = a.memory;
    const precision = a.stages[0]?.precision ?? 'bf16';
    parts.push('', `Training memory per GPU (${precision}, before activations): DDP **${formatBytes(ddp.total)}**; FSDP over ${fsdp.gpus} GPU${fsdp.gpus === 1 ? '' : 's'} **${formatBytes(fsdp.total)}**`);
    parts.push(`(DDP: weights ${formatBytes(ddp.weights)}, gradients ${formatBytes(ddp.gradients)}, AdamW moments ${formatBytes(ddp.optimizer)}, fp32 master ${formatBytes(ddp.master)})`);
  }
  parts.push('', '| out | role | source (paper) | init | zeroed | trains |', '|---:|---|---|---|---|---|');
  for (const b of layout.blocks) {
    const src = b.sources.map((x) => `${x.layer} (${x.layer + 1})`).join(' + ');
    const zero = [...new Set(b.zero.map((z) => z.split('.').find((t) => t.endsWith('_proj')) ?? z))].join(', ') || '—';
    parts.push(`| ${b.index} | ${b.role} | ${src} | ${b.init} | ${zero} | ${b.trainable ? 'yes' : 'no'} |`);
  }
  return md(parts.join('\n'), a, seg ? seg.segment.span : s.value.span);
}

/** A sweep variant's name: what it compiles to — expansion, depth, trainable blocks and parameters. */
function variantHover(a: PlanAnalysis, v: SweepVariant): Hover {
  const head = `**variant ${v.name}** of sweep ${a.sweep!.name ?? ''}: runs as \`${a.sweep!.name ?? 'sweep'}-${v.name}\``;
  const m = v.layerMap;
  if (!m) return md(`${head}\n\nDoes not compile: see its diagnostics.`, a, v.nameSpan);
  const trainable = m.blocks.filter((b) => b.trainable).map((b) => b.index);
  const shown = trainable.length > 12 ? `${trainable.slice(0, 12).join(', ')}, … (${trainable.length})` : trainable.join(', ') || 'none';
  return md([
    head, '',
    `\`${m.plan.expand}\`: ${m.base.numLayers} → ${m.result.numLayers} blocks, ${m.blocks.filter((b) => b.role === 'new').length} new, ${m.deleted.length} deleted`,
    `trainable blocks (0-based): ${shown}${m.trainableExtras.length ? ` + ${m.trainableExtras.join(', ')}` : ''}`,
    `parameters: ${withThousands(m.params.total)}, trainable ${withThousands(m.params.trainable)} (${((100 * m.params.trainable) / m.params.total).toFixed(1)}%)`,
  ].join('  \n'), a, v.nameSpan);
}
