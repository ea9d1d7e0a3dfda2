// Static SVG charts for places without a webview: `slayer report` and the README's demo write them
// next to a run so curves and importance can be looked at in any browser or image viewer.
// Pure string building, no DOM; every value that reaches the markup is a number or escaped text.
import { axisNumber } from '../shared/format';

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  /** Drawn dashed and thinner (e.g. the raw loss under its smoothed curve). */
  faint?: boolean;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  logY?: boolean;
  width?: number;
  height?: number;
}

export interface BarGroup {
  label: string;
  values: readonly (number | null)[];
  /** Shading behind the group: the plan's overlay (deleted, trainable, new block after it). */
  mark?: 'deleted' | 'final' | null;
  /** A new block is inserted after this one (drawn as a marker on the right edge). */
  insertAfter?: boolean;
}

export interface BarChartSpec {
  title: string;
  yLabel: string;
  seriesNames: readonly string[];
  colors: readonly string[];
  groups: readonly BarGroup[];
  width?: number;
  height?: number;
}

const PAD = { left: 64, right: 16, top: 36, bottom: 48 };
const FONT = 'font-family="sans-serif" font-size="11"';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** "Nice" tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The finest 1/2/5 step that gives at most count + 1 intervals.
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= count + 1) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function frame(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${width / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="14" font-weight="bold">${escapeXml(title)}</text>
${body}
</svg>
`;
}

/** The plot frame, the y axis (ticks, labels, optional grid lines) and the axis titles. */
function axes(width: number, height: number, yTicks: readonly number[], sy: (y: number) => number, yLabel: string, xLabel: string, grid: boolean): string[] {
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const parts: string[] = [];
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(grid
      ? `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`
      : `<line x1="${PAD.left - 4}" x2="${PAD.left}" y1="${y}" y2="${y}" stroke="#555"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" ${FONT}>${axisNumber(t)}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#555"/>`);
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${height - 10}" text-anchor="middle" ${FONT}>${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT}>${escapeXml(yLabel)}</text>`);
  return parts;
}

/** A colour swatch and a name per entry, top right. */
function legend(width: number, entries: readonly { name: string; color: string }[], boxWidth: number): string[] {
  return entries.flatMap(({ name, color }, i) => {
    const ly = PAD.top + 14 + i * 14;
    return [
      `<rect x="${width - PAD.right - boxWidth}" y="${ly - 8}" width="10" height="10" fill="${escapeXml(color)}"/>`,
      `<text x="${width - PAD.right - boxWidth + 15}" y="${ly}" ${FONT}>${escapeXml(name)}</text>`,
    ];
  });
}

/** A line chart; points with a non-finite coordinate (or ≤ 0 on a log axis) are skipped. */
export function lineChartSvg(spec: LineChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 360;
  const ty = (y: number): number => (spec.logY ? Math.log10(y) : y);
  const usable = spec.series.map((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.logY || y > 0)));
  const all = usable.flat();
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  if (all.length === 0) {
    return frame(width, height, spec.title, `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" ${FONT}>no data</text>`);
  }
  // Loops, not Math.min(...all): a long run has more points than a call can take arguments.
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of all) {
    const v = ty(y);
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (v < y0) y0 = v;
    if (v > y1) y1 = v;
  }
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number): number => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number): number => PAD.top + plotH - ((ty(y) - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [];
  // On a log axis spanning less than two decades, powers of ten alone would leave it unlabelled.
  const yTicks = !spec.logY
    ? niceTicks(y0, y1)
    : y1 - y0 >= 2
      ? niceTicks(y0, y1).filter((t) => Number.isInteger(t)).map((t) => 10 ** t)
      : niceTicks(10 ** y0, 10 ** y1).filter((t) => t > 0);
  parts.push(...axes(width, height, yTicks, sy, spec.yLabel + (spec.logY ? ' (log)' : ''), spec.xLabel, true));
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}" stroke="#555"/>`);
    parts.push(`<text x="${x}" y="${PAD.top + plotH + 16}" text-anchor="middle" ${FONT}>${axisNumber(t)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const pts = usable[i]!.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    const style = s.faint ? 'stroke-width="1" stroke-opacity="0.45"' : 'stroke-width="2"';
    parts.push(`<polyline data-series="${escapeXml(s.name)}" data-points="${usable[i]!.length}" fill="none" stroke="${escapeXml(s.color)}" ${style} points="${pts}"/>`);
  });
  parts.push(...legend(width, spec.series, 150));
  return frame(width, height, spec.title, parts.join('\n'));
}

/** Grouped bars, one group per block, with the plan drawn behind them. */
export function barChartSvg(spec: BarChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 360;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const values = spec.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (values.length === 0) {
    return frame(width, height, spec.title, `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" ${FONT}>no data</text>`);
  }
  let y0 = Math.min(0, ...values);
  let y1 = Math.max(0, ...values);
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sy = (y: number): number => PAD.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const gw = plotW / spec.groups.length;
  const bw = (gw * 0.8) / Math.max(1, spec.seriesNames.length);
  const parts: string[] = [];
  spec.groups.forEach((g, i) => {
    const gx = PAD.left + i * gw;
    if (g.mark) {
      const fill = g.mark === 'deleted' ? '#f4c7c3' : '#c8e6c9';
      parts.push(`<rect data-mark="${g.mark}" x="${gx.toFixed(1)}" y="${PAD.top}" width="${gw.toFixed(1)}" height="${plotH}" fill="${fill}"/>`);
    }
    if (g.insertAfter) {
      const x = (gx + gw).toFixed(1);
      parts.push(`<line data-insert-after="${i}" x1="${x}" x2="${x}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#2e7d32" stroke-width="3"/>`);
    }
    g.values.forEach((v, k) => {
      if (v === null || !Number.isFinite(v)) return;
      const top = sy(Math.max(v, 0));
      const h = Math.abs(sy(v) - sy(0));
      parts.push(`<rect x="${(gx + gw * 0.1 + k * bw).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${escapeXml(spec.colors[k] ?? '#888')}"/>`);
    });
    parts.push(`<text x="${(gx + gw / 2).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle" ${FONT}>${escapeXml(g.label)}</text>`);
  });
  parts.push(...axes(width, height, niceTicks(y0, y1), sy, spec.yLabel,
    'base block (0-based); red = deleted, green = updated final block, green line = new block inserted after', false));
  parts.push(...legend(width, spec.seriesNames.map((name, k) => ({ name, color: spec.colors[k] ?? '#888' })), 170));
  return frame(width, height, spec.title, parts.join('\n'));
}
