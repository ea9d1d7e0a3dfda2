// chart.js, registered once with only the pieces the views use (tree-shaken into each bundle),
// and the options every chart shares: no animation, prepared data (parsing off), theme colours.
// The root tsconfig checks the extension as CommonJS (Node16), where an import of the ESM-only
// chart.js package is flagged (TS1479); the webview bundles are built by esbuild, which resolves
// it, and the types still apply.
// @ts-expect-error TS1479 only (see above)
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, Title, type ChartConfiguration, type ChartOptions, type Plugin } from 'chart.js';
import type { Theme } from './theme';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Title, Tooltip);

export { Chart };
export type { ChartConfiguration, Plugin };

export function applyThemeDefaults(t: Theme): void {
  Chart.defaults.color = t.foreground;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.font;
}

/** Re-colours an existing chart's axes and legend after a theme change. */
export function recolorChart(chart: Chart, t: Theme): void {
  const scales = chart.options.scales ?? {};
  for (const s of Object.values(scales)) {
    if (!s) continue;
    if (s.ticks) s.ticks.color = t.foreground;
    if (s.grid) s.grid.color = t.grid;
    const title = (s as { title?: { color?: string } }).title;
    if (title) title.color = t.foreground;
  }
  const legend = chart.options.plugins?.legend;
  if (legend?.labels) legend.labels.color = t.foreground;
}

export function baseLineOptions(t: Theme, yTitle: string, xTitle: string): ChartOptions<'line'> {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    spanGaps: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    // 1 px lines are Skia hairlines: about half the raster cost of wider strokes on dense curves.
    elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 1 } },
    plugins: {
      legend: { display: true, labels: { color: t.foreground, boxWidth: 12 } },
      tooltip: { enabled: true },
    },
    scales: {
      x: { type: 'linear', title: { display: true, text: xTitle, color: t.foreground }, ticks: { color: t.foreground, minRotation: 0, maxRotation: 0, sampleSize: 8 }, grid: { color: t.grid } },
      y: { type: 'linear', title: { display: true, text: yTitle, color: t.foreground }, ticks: { color: t.foreground }, grid: { color: t.grid } },
    },
  };
}

/** All canvases of a view side by side on the theme background, as one PNG data URL. */
export function composePng(canvases: HTMLCanvasElement[], background: string): string {
  const cols = Math.min(2, canvases.length);
  const w = Math.max(...canvases.map((c) => c.width));
  const hgt = Math.max(...canvases.map((c) => c.height));
  const rows = Math.ceil(canvases.length / cols);
  const out = document.createElement('canvas');
  out.width = w * cols;
  out.height = hgt * rows;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  canvases.forEach((c, i) => ctx.drawImage(c, (i % cols) * w, Math.floor(i / cols) * hgt));
  return out.toDataURL('image/png');
}
