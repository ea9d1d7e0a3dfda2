// The layer map, after the paper's Figure 3: the original stack and the resulting stack side by
// side, each output block linked to its sources, with its init; trainable blocks highlighted,
// deleted blocks struck through, parameter totals below. The host re-sends the map as the plan is
// edited, with the core's overlay of it (which base blocks are deleted, final, trainable): the view
// draws the overlay and never works it out again; while the plan has errors the last map that
// compiled stays, marked stale.
import type { PlanOverlay } from '@slayer/core';
import type { LayerMap, OutputBlock } from '@slayer/protocol/layerMap';
import type { HostMessage } from '@slayer/messages/webviewMessages';
import { formatCount, withThousands } from '@slayer/shared/format';
import { byId, clear, h } from './shared/dom';
import { connect } from './shared/vscodeApi';

const ROW = 20; // px, matches `.stack li` in the panel CSS
const SVG_NS = 'http://www.w3.org/2000/svg';

const app = byId('app');
const header = h('header', { id: 'summary' });
const problems = h('div', { id: 'problems' });
const stacks = h('div', { class: 'stacks', id: 'stacks' });
const totals = h('table', { class: 'totals', id: 'totals' });
const empty = h('p', { class: 'note', id: 'empty' }, 'Open a .slayer plan: its layer map appears here and follows your edits.');
const legend = legendOf();
app.append(header, problems, empty, legend, stacks, h('h2', {}, 'Parameters'), totals);

/** `29, 30, 31` → `29–31`: consecutive blocks as a range, so a label stays short. */
function blockList(xs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    out.push(j > i + 1 ? `${xs[i]}–${xs[j]}` : j === i + 1 ? `${xs[i]}, ${xs[j]}` : String(xs[i]));
    i = j;
  }
  return out.join(', ');
}

/** The short label drawn in the stack; `describe` gives the long one for the tooltip. */
function label(b: OutputBlock): string {
  const src = b.sources.map((s) => s.layer);
  switch (b.init) {
    case 'kept': return `${src[0]}`;
    case 'copy': return `new: copy ${src[0]}`;
    case 'average': return `new: avg ${src.join(', ')}`;
    case 'final-average': return `final: avg ${blockList(src)}`;
    case 'final-average-deleted': return `final: avg ${blockList(src)}`;
    case 'final-keep': return `final: ${src[0]}`;
  }
}

function describe(b: OutputBlock): string {
  const src = b.sources.map((s) => s.layer);
  switch (b.init) {
    case 'kept': return `kept ${src[0]}`;
    case 'copy': return `new · copy of ${src[0]}`;
    case 'average': return `new · average of ${src.join(' & ')}`;
    case 'final-average': return `final · mean of ${src.join(', ')}`;
    case 'final-average-deleted': return `final · mean of deleted ${src.join(', ')}`;
    case 'final-keep': return `final · ${src[0]} (retrained)`;
  }
}

function SVG(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** A short line in a link colour, for the legend (an SVG, like the links themselves). */
function lineKey(cls: string): SVGElement {
  const svg = SVG('svg', { class: 'links key', width: '22', height: '10', viewBox: '0 0 22 10', 'aria-hidden': 'true' });
  svg.append(SVG('line', { x1: '0', y1: '5', x2: '22', y2: '5', ...(cls ? { class: cls } : {}) }));
  return svg;
}

/** What the colours and marks of the map mean. */
function legendOf(): HTMLElement {
  return h('div', { class: 'legend', id: 'legend' },
    h('span', {}, h('span', { class: 'swatch trainable' }), 'trainable (also ●)'),
    h('span', { class: 'key-new' }, 'new block'),
    h('span', { class: 'key-deleted' }, 'deleted'),
    h('span', {}, lineKey(''), 'kept from'),
    h('span', {}, lineKey('new'), 'new block\'s source'),
    h('span', {}, lineKey('final'), 'final block\'s sources'),
    h('span', { class: 'note' }, 'n ← m: block n of the result comes from block m of the original; hover a block for details'),
  );
}

function render(map: LayerMap, overlay: PlanOverlay | null): void {
  const L = map.base.numLayers;
  const added = map.blocks.filter((b) => b.role === 'new').length;
  clear(header);
  header.append(
    h('h2', {}, `${map.plan.model} · ${map.plan.expand}`),
    h('p', { class: 'note' }, `${L} → ${map.result.numLayers} blocks: +${added} new, −${map.deleted.length} deleted; ${map.blocks.filter((b) => b.trainable).length} trainable blocks${map.trainableExtras.length ? ` + ${map.trainableExtras.join(', ')}` : ''}`),
  );

  const original = h('ol', { class: 'stack', id: 'original', start: 0, 'aria-label': 'original blocks' });
  for (let i = 0; i < L; i++) {
    const o = overlay?.blocks[i];
    const deleted = o?.status === 'deleted';
    const cls = deleted ? 'deleted' : o?.trainable ? 'trainable' : '';
    original.append(h('li', { class: cls, 'data-block': i, title: deleted ? `block ${i} is deleted` : `block ${i}` }, String(i)));
  }
  const result = h('ol', { class: 'stack', id: 'result', start: 0, 'aria-label': 'resulting blocks' });
  for (const b of map.blocks) {
    const cls = [b.role === 'new' ? 'new' : '', b.role === 'final' ? 'final' : '', b.trainable ? 'trainable' : ''].filter(Boolean).join(' ');
    const zero = b.zero.length ? ` · zeroed: ${b.zero.join(', ')}` : '';
    result.append(h('li', { class: cls, 'data-block': b.index, 'data-init': b.init, title: `${describe(b)}${zero}${b.trainable ? ' · trainable' : ' · frozen'}` },
      `${b.index} ← ${label(b)}${b.trainable ? ' ●' : ''}`));
  }

  // Links from each source block to the output block (SVG attributes, not style: CSP-safe).
  const height = Math.max(L, map.blocks.length) * ROW;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'links');
  // Stretched to its column's width (narrow in a half-width editor group).
  svg.setAttribute('width', '100%');
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 120 ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  for (const b of map.blocks) {
    for (const s of b.sources) {
      const line = document.createElementNS(SVG_NS, 'line');
      line.setAttribute('x1', '0');
      line.setAttribute('y1', String(s.layer * ROW + ROW / 2));
      line.setAttribute('x2', '120');
      line.setAttribute('y2', String(b.index * ROW + ROW / 2));
      if (b.role !== 'kept') line.setAttribute('class', b.role);
      svg.append(line);
    }
  }
  clear(stacks);
  stacks.append(
    h('div', {}, h('h2', {}, `Original (${L})`), original),
    h('div', {}, h('h2', {}, '\u00a0'), svg),
    h('div', {}, h('h2', {}, `Result (${map.result.numLayers})`), result),
  );

  const p = map.params;
  const pct = (n: number): string => `${((100 * n) / p.total).toFixed(2)} %`;
  clear(totals);
  const row = (label: string, n: number, extra = ''): HTMLTableRowElement => h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, withThousands(n)), h('td', { class: 'note' }, `${formatCount(n)}${extra}`));
  totals.append(
    row('base model', p.base),
    row('resulting model', p.total, ` (${p.total >= p.base ? '+' : '−'}${formatCount(Math.abs(p.total - p.base))})`),
    row('trainable', p.trainable, ` · ${pct(p.trainable)}`),
    row('trainable in blocks', p.trainableBlocks),
    row('per block', p.perBlock),
    row('embeddings', p.embed),
    row('output head', p.head, p.head === 0 ? ' (tied)' : ''),
  );
  totals.querySelectorAll('tr').forEach((tr, i) => tr.setAttribute('data-row', ['base', 'total', 'trainable', 'trainableBlocks', 'perBlock', 'embed', 'head'][i]!));
}

function receive(m: HostMessage): void {
  if (m.type !== 'layerMap') return;
  clear(problems);
  for (const p of m.problems) problems.append(h('p', { class: 'error' }, p));
  if (m.stale && m.layerMap) problems.append(h('p', { class: 'note', id: 'stale' }, 'Showing the last version of the plan that compiled.'));
  empty.hidden = m.layerMap !== null;
  stacks.hidden = totals.hidden = legend.hidden = m.layerMap === null;
  if (m.layerMap) render(m.layerMap, m.overlay);
}

(window as unknown as { slayerView: unknown }).slayerView = { receive };
connect('layerMap', receive);
