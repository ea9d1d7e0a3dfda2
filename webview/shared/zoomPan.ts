// Zoom and pan on a chart's x axis, with plain DOM events (no plugin, nothing for the CSP to
// allow): the wheel zooms around the pointer, a drag pans, a double-click resets. The range is
// reported to `onRange` (null = the whole data), so a view can keep several charts in step.
import type { Chart } from './charts';

export interface XRange {
  min: number;
  max: number;
}

const ZOOM_STEP = 1.25;
/** Pixels the pointer must move before a press becomes a drag (a click stays a click). */
const DRAG_SLOP = 3;

/** The x range a chart shows now (its data bounds when not zoomed). */
export function shownRange(chart: Chart): XRange {
  const x = chart.scales.x!;
  return { min: x.min, max: x.max };
}

/** Zooms `r` by `factor` (< 1 zooms in) around `at`, which stays under the pointer. */
export function zoomRange(r: XRange, at: number, factor: number): XRange {
  return { min: at - (at - r.min) * factor, max: at + (r.max - at) * factor };
}

export function attachZoomPan(chart: Chart, onRange: (r: XRange | null) => void): void {
  const canvas = chart.canvas;
  const valueAt = (clientX: number): number => {
    const box = canvas.getBoundingClientRect();
    return chart.scales.x!.getValueForPixel(clientX - box.left) as number;
  };
  const inPlot = (e: MouseEvent): boolean => {
    const box = canvas.getBoundingClientRect();
    const a = chart.chartArea;
    const x = e.clientX - box.left;
    const y = e.clientY - box.top;
    return x >= a.left && x <= a.right && y >= a.top && y <= a.bottom;
  };

  canvas.addEventListener('wheel', (e) => {
    if (!inPlot(e) || e.deltaY === 0) return;
    e.preventDefault();
    const factor = e.deltaY > 0 ? ZOOM_STEP : 1 / ZOOM_STEP;
    onRange(zoomRange(shownRange(chart), valueAt(e.clientX), factor));
  }, { passive: false });

  let drag: { startX: number; range: XRange; moved: boolean } | null = null;
  canvas.addEventListener('mousedown', (e) => {
    if (e.button !== 0 || !inPlot(e)) return;
    drag = { startX: e.clientX, range: shownRange(chart), moved: false };
  });
  window.addEventListener('mousemove', (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.startX;
    if (!drag.moved && Math.abs(dx) < DRAG_SLOP) return;
    drag.moved = true;
    canvas.style.cursor = 'grabbing';
    const width = chart.chartArea.right - chart.chartArea.left;
    const shift = (-dx / width) * (drag.range.max - drag.range.min);
    onRange({ min: drag.range.min + shift, max: drag.range.max + shift });
  });
  window.addEventListener('mouseup', () => {
    if (drag?.moved) canvas.style.cursor = '';
    drag = null;
  });
  canvas.addEventListener('dblclick', (e) => {
    if (inPlot(e)) onRange(null);
  });
}
