// Run reports: a run directory as the runner writes it → SVG charts, HTML page and terminal summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePlan, layerMapOverlay, planOverlay } from '../../src/core';
import type { ImportanceFile } from '../../src/protocol/runnerEvents';
import { buildRunReport, ema, metricsByStage, readRunDir, sparkline } from '../../src/report/runReport';
import { lineChartSvg, niceTicks } from '../../src/report/svgChart';

const root = join(__dirname, '..', '..');

function metric(seq: number, step: number, loss: number): string {
  return JSON.stringify({ v: 1, t: 1700000000 + seq, run: 'r1', seq, kind: 'metric', stage: 'cpt', step, tokens: step * 512, loss, lr: 1e-3, grad_norm: 1, tokens_per_s: 1000, gpu_mem: null });
}

/** A run directory: 10 steps, a resume that repeats steps 6–7, importance for 8 blocks, the demo plan. */
function makeRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-report-'));
  const lines: string[] = [];
  let seq = 0;
  for (let s = 0; s < 8; s++) lines.push(metric(seq++, s, 5 - s * 0.1));
  for (let s = 6; s < 10; s++) lines.push(metric(seq++, s, 4 - s * 0.1)); // resumed from the step-6 checkpoint
  lines.push('{"v":1,"kind":"metric"}'); // a damaged line is reported, not fatal
  lines.push(JSON.stringify({ v: 1, t: 1700000100, run: 'r1', seq: seq++, kind: 'done', status: 'succeeded', exit_code: 0 }));
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  const plan = readFileSync(join(root, 'examples', 'demo.slayer'), 'utf8');
  const a = analyzePlan(plan, { fileName: join(root, 'examples', 'demo.slayer'), baseDir: join(root, 'examples'), readFile: (p) => readFileSync(p, 'utf8') });
  assert.ok(a.layerMap, 'the demo plan compiles');
  writeFileSync(join(dir, 'layermap.json'), JSON.stringify(a.layerMap));
  const imp: ImportanceFile = {
    v: 1, model: 'tiny', num_layers: 8,
    calibration: { source: 'sample.txt', sequences: 4, tokens: 256, seq_len: 64 },
    baseline_loglik: -5.2,
    angular_all: [0.3, 0.1, 0.12, 0.08, 0.09, 0.1, 0.11, 0.2],
    angular_last: [0.31, 0.11, 0.13, 0.09, 0.1, 0.12, 0.1, 0.25],
    removal_drop: [2, 0.1, 0.2, 0.05, 0.1, 0.1, 0.2, 0.6],
    insert_copy_drop: null, insert_average_drop: null,
  };
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', 'importance.json'), JSON.stringify(imp));
  return dir;
}

test('steps repeated after a resume replace the earlier points', () => {
  const data = readRunDir(makeRunDir());
  const cpt = metricsByStage(data.events).get('cpt')!;
  assert.deepEqual(cpt.map((m) => m.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(cpt[6]!.loss, 4 - 0.6); // the resumed value, not the first one
  assert.equal(data.badLines.length, 1);
  assert.equal(data.badLines[0]!.line, 13);
});

test('report charts hold every point, the plan overlay and a summary', () => {
  const data = readRunDir(makeRunDir());
  const r = buildRunReport(data, 'demo');
  const loss = r.files['loss.svg']!;
  const counts = [...loss.matchAll(/data-series="([^"]+)" data-points="(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(counts, [['cpt loss', 10], ['cpt loss (EMA 0.9)', 10]]);
  const imp = r.files['importance.svg']!;
  // Demo plan (2+1)x2 | 2 | 1◇ on 8 blocks: new blocks after base blocks 1 and 3, block 7 deleted, block 6 feeds the final block.
  assert.deepEqual([...imp.matchAll(/data-insert-after="(\d+)"/g)].map((m) => Number(m[1])), [1, 3]);
  assert.deepEqual([...imp.matchAll(/data-mark="(\w+)"/g)].map((m) => m[1]), ['final', 'deleted']);
  assert.match(r.summary[0]!, /run status: succeeded \(exit 0\); 13 events, 1 unreadable lines \(first: line 13/);
  assert.match(r.summary.join('\n'), /cpt: 10 steps, loss 5\.000 → 3\.100/);
  assert.match(r.summary.join('\n'), /least changing blocks \(angular distance\): 3 \(0\.080\), 4 \(0\.090\), 1 \(0\.100\)/);
  assert.match(r.files['report.html']!, /<code>\(2\+1\)x2 \| 2 \| 1◇<\/code>/);
});

test('chart helpers: EMA is bias-corrected, ticks are round, log axes skip non-positive values, text is escaped', () => {
  assert.deepEqual(ema([2, 2, 2], 0.9).map((v) => Number(v.toFixed(12))), [2, 2, 2]);
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3.1, 9.7, 3), [4, 6, 8]);
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  const svg = lineChartSvg({ title: 'a<b', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's&t', color: '#000', points: [[0, 1], [1, 0], [2, 10]] }] });
  assert.match(svg, /data-series="s&amp;t" data-points="2"/);
  assert.match(svg, />a&lt;b</);
});

test('slayer report writes the files and prints the summary', () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const dir = makeRunDir();
  const out = join(dir, 'pictures');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), 'report', dir, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /cpt: 10 steps/);
  for (const f of ['loss.svg', 'lr.svg', 'importance.svg', 'report.html']) assert.ok(readFileSync(join(out, f), 'utf8').length > 200, f);
  const missing = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), 'report', join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no events\.jsonl \(is this a run directory\?\)/);
});


test('a log axis spanning less than two decades still has labelled ticks', () => {
  const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', color: '#000', points: [[0, 5.6], [1, 4.7]] }] });
  const labels = [...svg.matchAll(/text-anchor="end" dominant-baseline="middle"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(labels, ['4.8', '5', '5.2', '5.4', '5.6']);
});

test('the overlay from a compiled LayerMap equals the one from the plan layout', () => {
  for (const expand of ['(2+1)x8 | 13 | 1◇', '(4+1)x8', '16 (2+1)x8', '(2+1)x8 | 12 | 1◇', '(2+1)x6 | 17 | 1◇']) {
    const a = analyzePlan(`model meta-llama/Llama-2-7b-hf\nexpand ${expand}\n`);
    assert.ok(a.layerMap && a.layout && a.canonicalExpansion, expand);
    const fromLayout = planOverlay(a.layout, { planFile: null, expand: a.canonicalExpansion, init: a.init });
    assert.deepEqual(layerMapOverlay(a.layerMap).blocks, fromLayout.blocks, expand);
  }
});
