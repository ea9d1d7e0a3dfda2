// The Evaluation view in real headless Chromium, inside the extension's own HTML and CSP, fed with
// real eval events recorded from the runner and lm-evaluation-harness (tiny Llamas on local tasks):
// run A and run B against the same base (B's base scores came from the host cache).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseEventLine, type EvalEvent } from '../../src/protocol/runnerEvents';
import type { ViewMessage } from '../../src/messages/webviewMessages';
import { compareRuns, renderComparison } from '../../src/shared/evalCompare';
import { frames, ROOT, viewForSuite } from './harness';

const FIX = join(ROOT, 'test', 'fixtures', 'webview');
const load = (f: string): EvalEvent[] => readFileSync(join(FIX, f), 'utf8').trim().split('\n').map(parseEventLine).filter((e): e is EvalEvent => e.kind === 'eval');
const A = { id: 'r-20261205-evala', label: 'SLayer (1+1)x2', scores: load('eval-run-a.events.jsonl') };
const B = { id: 'r-20261205-evalb', label: 'LLaMA Pro (2+1)x1', scores: load('eval-run-b.events.jsonl') };

interface ChartInfo { labels: string[]; datasets: { label: string; data: (number | null)[] }[] }

describe('evaluation view (Chromium)', () => {
  const v = viewForSuite('evaluation', { height: 1000 });

  it('says ready, then shows the newest run against the base when runs arrive', async () => {
    assert.deepEqual(await v.waitForSent((m) => m.type === 'ready', 'ready'), { type: 'ready', view: 'evaluation', protocol: 1 });
    await v.post({ type: 'evaluation', runs: [A, B], focus: [] });
    await frames(v.page);
    assert.deepEqual(await v.page.locator('#runs input:checked').evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))), [B.id]);
  });

  it('"Compare Runs" selects both: grouped bars per task, domain and general side by side, base first', async () => {
    await v.post({ type: 'evaluation', runs: [A, B], focus: [A.id, B.id] });
    await frames(v.page);
    const charts = await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] } }> } }).slayerView;
      return Object.fromEntries([...view.charts].map(([k, c]) => [k, { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) }]));
    }) as Record<'domain' | 'general', ChartInfo>;
    assert.deepEqual(charts.domain.labels, ['tiny_gen']);
    assert.deepEqual(charts.general.labels, ['tiny_mc']);
    assert.deepEqual(charts.general.datasets.map((d) => d.label), ['base', A.label, B.label]);
    const pct = (s: EvalEvent[], model: string, task: string): number => 100 * s.find((e) => e.model === model && e.task === task)!.value;
    assert.deepEqual(charts.general.datasets.map((d) => d.data[0]), [pct(A.scores, 'base', 'tiny_mc'), pct(A.scores, 'final', 'tiny_mc'), pct(B.scores, 'final', 'tiny_mc')]);
    const boxes = await v.page.locator('#chart-domain, #chart-general').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, w: r.width })));
    assert.ok(boxes[1]!.x > boxes[0]!.x + boxes[0]!.w - 1 && Math.abs(boxes[1]!.y - boxes[0]!.y) < 2, `side by side: ${JSON.stringify(boxes)}`);
    assert.deepEqual(await v.problems(), []);
    await v.screenshot('evaluation-view.png');
  });

  it('the table colours each delta by whether it is better (perplexity: lower is better), and a verdict per run', async () => {
    const expected = compareRuns([{ run: A.label, scores: A.scores }, { run: B.label, scores: B.scores }]);
    const rows = await v.page.locator('#scores tr[data-task]').evaluateAll((trs) => trs.map((tr) => ({
      task: tr.getAttribute('data-task'),
      deltas: Array.from(tr.querySelectorAll('td.delta')).map((td) => ({ text: td.textContent, cls: td.classList.contains('better') ? 'better' : td.classList.contains('worse') ? 'worse' : '' })),
    })));
    assert.deepEqual(rows.map((r) => r.task), expected.rows.map((r) => r.task));
    for (const [i, r] of expected.rows.entries()) {
      assert.deepEqual(rows[i]!.deltas.map((d) => d.cls), r.cells.map((c) => (c.better === null ? '' : c.better ? 'better' : 'worse')), r.task);
    }
    // Real numbers: run B's final model has a higher held-out perplexity than the base — worse.
    const heldout = rows.find((r) => r.task === 'heldout')!;
    assert.equal(heldout.deltas[1]!.cls, 'worse');
    assert.match(heldout.deltas[1]!.text!, /^\+\d+\.\d{3}$/);
    const verdicts = await v.page.locator('#verdicts .verdict').allTextContents();
    assert.deepEqual(verdicts, expected.runs.map((r) => `${r.run} (final): ${r.verdict}`));
    assert.match(verdicts[0]!, /: [+−±]\d+\.\d domain, [+−±]\d+\.\d general$/);
    // One row per run (a sweep's variants), the base first: each task's value and the verdict.
    const perRun = await v.page.locator('#per-run tr[data-run]').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    const digits = (i: number): number => (expected.rows[i]!.source === 'perplexity' ? 3 : 2);
    assert.deepEqual(perRun, [
      ['base', ...expected.rows.map((r, i) => (r.base === null ? '' : r.base.toFixed(digits(i)))), ''],
      ...expected.runs.map((run, j) => [run.run, ...expected.rows.map((r, i) => (r.cells[j]!.value === null ? '' : r.cells[j]!.value!.toFixed(digits(i)))), run.verdict]),
    ]);
  });

  it('exports the same comparison as CSV and Markdown (what slayer compare prints)', async () => {
    const expected = compareRuns([{ run: A.label, scores: A.scores }, { run: B.label, scores: B.scores }]);
    await v.page.locator('#export-csv').click();
    const csv = await v.waitForSent((m) => m.type === 'export' && m.format === 'csv', 'a CSV export') as Extract<ViewMessage, { format: 'csv' }>;
    assert.equal(csv.fileName, 'evaluation.csv');
    assert.equal(csv.content, renderComparison(expected, 'csv'));
    await v.page.locator('#export-md').click();
    const md = await v.waitForSent((m) => m.type === 'export' && m.format === 'md', 'a Markdown export') as Extract<ViewMessage, { format: 'md' }>;
    assert.equal(md.content, renderComparison(expected, 'md'));
    assert.match(md.content, /^\| group \| task \| metric \| base \| SLayer \(1\+1\)x2 \| Δ SLayer \(1\+1\)x2 \|/);
  });

  it('unchecking a run removes it; the selection survives a reload of the page', async () => {
    await v.page.locator(`#runs input[data-run="${A.id}"]`).uncheck();
    await frames(v.page);
    assert.equal((await v.page.locator('#verdicts .verdict').allTextContents()).length, 1);
    await v.page.reload();
    await v.post({ type: 'evaluation', runs: [A, B], focus: [] });
    await frames(v.page);
    assert.deepEqual(await v.page.locator('#runs input:checked').evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))), [B.id]);
    assert.deepEqual(await v.problems(), []);
  });
});
