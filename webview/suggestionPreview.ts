// The suggested expansion over the importance charts, before it is applied: its new blocks as
// dashed green lines (`+n?`), its deleted blocks hatched red, its updated final block outlined, and
// a panel with the notation, the accounting, the reasons and "Apply to plan" / "Discard". The
// plan's own overlay stays drawn underneath, so the two can be compared block by block.
import type { SuggestionPreview } from '@slayer/messages/webviewMessages';
import type { Chart, Plugin } from './shared/charts';
import { clear, h } from './shared/dom';
import { withAlpha, type Theme } from './shared/theme';
import { post } from './shared/vscodeApi';

export interface SuggestionOptions {
  blocks: SuggestionPreview['overlay']['blocks'] | null;
}

function geometry(chart: Chart): { center: (i: number) => number; half: number } {
  const x = chart.scales.x!;
  const p0 = x.getPixelForValue(0);
  return { center: (i) => x.getPixelForValue(i), half: (x.getPixelForValue(1) - p0) / 2 };
}

/** A chart.js plugin drawing the suggestion (options key `slayerSuggestion`). */
export function suggestionPlugin(theme: () => Theme): Plugin {
  return {
    id: 'slayerSuggestion',
    afterDatasetsDraw(chart, _args, opts: SuggestionOptions) {
      if (!opts.blocks) return;
      const t = theme();
      const { ctx, chartArea: a } = chart;
      const { center, half } = geometry(chart);
      ctx.save();
      ctx.lineWidth = 2;
      ctx.font = `11px ${t.font}`;
      ctx.textAlign = 'center';
      for (const b of opts.blocks) {
        const left = center(b.base) - half;
        if (b.status === 'deleted') {
          // Hatched, so it reads as "would be deleted" next to the plan's solid band.
          ctx.strokeStyle = withAlpha(t.deleted, 0.9);
          ctx.beginPath();
          for (let y = a.top; y < a.bottom; y += 8) {
            ctx.moveTo(left, y);
            ctx.lineTo(left + 2 * half, Math.min(a.bottom, y + 2 * half));
          }
          ctx.stroke();
        } else if (b.status === 'final') {
          ctx.strokeStyle = t.trainable;
          ctx.setLineDash([4, 3]);
          ctx.strokeRect(left + 1, a.top + 1, 2 * half - 2, a.bottom - a.top - 2);
          ctx.setLineDash([]);
        }
        if (b.newAfter > 0) {
          const x = left + 2 * half;
          ctx.strokeStyle = t.added;
          ctx.fillStyle = t.added;
          ctx.setLineDash([5, 4]);
          ctx.beginPath();
          ctx.moveTo(x, a.top + 24);
          ctx.lineTo(x, a.bottom);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillText(`+${b.newAfter}?`, x, a.top + 22);
        }
      }
      ctx.restore();
    },
  };
}

/** The preview panel: what would change, and the two actions. */
export function renderSuggestionPanel(panel: HTMLElement, preview: SuggestionPreview | null): void {
  clear(panel);
  panel.hidden = preview === null;
  if (!preview) return;
  panel.append(
    h('p', { id: 'suggestion-title' }, h('strong', {}, 'Suggested expansion'), ` (${preview.strategy}) — dashed over the charts; blocks 0-based (paper 1-based)`),
    h('ul', { id: 'suggestion-lines' }, ...preview.lines.map((l) => h('li', {}, l))),
    h('ul', { id: 'suggestion-reasons', class: 'note' }, ...preview.reasons.map((r) => h('li', {}, r))),
    ...preview.warnings.map((w) => h('p', { class: 'error' }, w)),
    h('p', {},
      h('button', { id: 'suggestion-apply', onclick: () => post({ type: 'applySuggestion' }) }, 'Apply to plan'), ' ',
      h('button', { id: 'suggestion-discard', class: 'secondary', onclick: () => post({ type: 'discardSuggestion' }) }, 'Discard')),
  );
}
