// The views' pure data modules, run in node: resume-safe series, incremental EMA, the min/max
// decimation that must keep every spike within its bucket budget, message validation, and the
// importance assembled from streamed events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MinMaxDecimator } from '../../src/shared/decimate';
import { ema, Ema } from '../../src/shared/ema';
import { emptyColumns, MetricSeries } from '../../src/shared/series';
import { csvRow } from '../../src/shared/csv';
import { pngBytes, validateViewMessage, ViewMessageError } from '../../src/messages/webviewMessages';
import { parseEventLine, validateImportanceFile } from '../../src/protocol/runnerEvents';
import { importanceFromEvents } from '../../src/extension/webviews/importanceFromEvents';
import { pushMetric } from '../../src/extension/webviews/curvesData';
import { metricsByStage } from '../../src/report/runReport';

function cols(steps: number[], loss: (s: number) => number) {
  const c = emptyColumns();
  for (const s of steps) {
    c.step.push(s); c.tokens.push(s * 10); c.loss.push(loss(s)); c.lr.push(1e-4); c.gradNorm.push(1); c.tokensPerS.push(100);
  }
  return c;
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('MetricSeries', () => {
  it('replaces from the first repeated step on a resume', () => {
    const s = new MetricSeries('r', 'cpt');
    s.append(cols(range(1, 350), () => 1));
    assert.equal(s.takeChangedFrom(), 0);
    s.append(cols(range(301, 400), () => 2));
    assert.equal(s.length, 400);
    assert.equal(s.takeChangedFrom(), 300);
    assert.equal(s.y('loss')[299], 1);
    assert.equal(s.y('loss')[300], 2);
    assert.deepEqual(Array.from(s.step.data.subarray(0, s.length)), range(1, 400));
  });
  it('drops the points after a resume that stops early, as the run report does', () => {
    const metric = (seq: number, step: number, loss: number) => parseEventLine(JSON.stringify({ v: 1, t: 1, run: 'r', seq, kind: 'metric', stage: 'cpt', step, tokens: step, loss, lr: 1, grad_norm: 1, tokens_per_s: 1, gpu_mem: null }));
    // Steps 1..10, then a resume from step 5 that stops at step 7.
    const events = [...range(1, 10).map((st) => metric(st, st, 1)), ...range(5, 7).map((st) => metric(10 + st, st, 2))];
    const s = new MetricSeries('r', 'cpt');
    for (const e of events) if (e.kind === 'metric') { const c = emptyColumns(); pushMetric(c, e); s.append(c); }
    const report = metricsByStage(events).get('cpt')!;
    assert.deepEqual(Array.from(s.step.data.subarray(0, s.length)), range(1, 7));
    assert.deepEqual(report.map((m) => m.step), range(1, 7));
    assert.deepEqual(report.map((m) => m.loss), Array.from(s.y('loss').subarray(0, s.length)));
    assert.deepEqual(report.map((m) => m.loss), [1, 1, 1, 1, 2, 2, 2]);
  });
  it('grows past its initial capacity', () => {
    const s = new MetricSeries('r', 'cpt');
    s.append(cols(range(1, 5000), (x) => x));
    assert.equal(s.length, 5000);
    assert.equal(s.y('loss')[4999], 5000);
    assert.equal(s.indexOfStep(2500), 2499);
  });
});

describe('Ema', () => {
  it('matches a from-scratch debiased EMA after appends and a truncation', () => {
    const y = Float32Array.from(range(0, 999), (i) => Math.sin(i / 7) + (i === 500 ? 10 : 0));
    const e = new Ema(0.8);
    e.sync(y, 600);
    e.sync(y, 1000);
    const y2 = Float32Array.from(y);
    y2[700] = -5; // a resumed run rewrote points from 700 on
    e.sync(y2, 1000, 700);
    const fresh = new Ema(0.8);
    fresh.sync(y2, 1000);
    for (let i = 0; i < 1000; i++) assert.ok(Math.abs(e.values[i]! - fresh.values[i]!) < 1e-6, `point ${i}`);
    assert.ok(Math.abs(fresh.values[0]! - y2[0]!) < 1e-6, 'debiased: the first value is the first point');
  });

  it('smooths a whole series at once by the same formula (worked by hand: s = 0.5)', () => {
    // acc = 0.5, 1.75, 3.375; weight = 0.5, 0.75, 0.875
    assert.deepEqual(ema([1, 3, 5], 0.5).map((v) => Number(v.toFixed(5))), [1, 2.33333, 3.85714]);
    assert.deepEqual(ema([1, 3, 5], 0), [1, 3, 5]);
  });
});

describe('MinMaxDecimator', () => {
  it('keeps every spike, stays within 4 points per bucket, and only rebuilds on bucket doubling', () => {
    const n = 200_000;
    const x = Float64Array.from(range(1, n));
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = 1 + 0.01 * Math.sin(i);
    const spikes = [137, 51_234, 123_457, 199_999];
    for (const s of spikes) y[s] = 50;
    y[77_777] = -40;
    const d = new MinMaxDecimator(1024);
    const arr = d.out;
    for (let at = 0; at < n; at += 1000) d.sync(x, y, at + 1000);
    assert.equal(d.covered, n);
    assert.ok(d.out.length <= 4 * 1024, `${d.out.length} points`);
    assert.ok(d.bucketSize >= n / 1024 && d.bucketSize < (2 * n) / 1024);
    assert.equal(d.rebuilds, Math.log2(d.bucketSize));
    assert.equal(d.out, arr, 'the same output array throughout');
    for (const s of spikes) assert.ok(d.out.some((p) => p.x === s + 1 && p.y === 50), `spike at ${s}`);
    assert.ok(d.out.some((p) => p.y === -40), 'the dip');
    for (let i = 1; i < d.out.length; i++) assert.ok(d.out[i]!.x > d.out[i - 1]!.x, 'x ascends');
    assert.equal(d.out[0]!.x, 1);
    assert.equal(d.out[d.out.length - 1]!.x, n);
  });
  it('recomputes from a changed index without a full rebuild', () => {
    const x = Float64Array.from(range(1, 5000));
    const y = new Float32Array(5000).fill(1);
    const d = new MinMaxDecimator(1024);
    d.sync(x, y, 5000);
    const r = d.rebuilds;
    y[4500] = 9;
    d.sync(x, y, 5000, 4500);
    assert.equal(d.rebuilds, r);
    assert.ok(d.out.some((p) => p.y === 9));
    d.sync(x, y, 4400, 4400); // truncated
    assert.ok(!d.out.some((p) => p.y === 9));
    assert.equal(d.out[d.out.length - 1]!.x, 4400);
  });
});

describe('webview protocol validation', () => {
  it('accepts well-formed view messages and rejects the rest', () => {
    assert.deepEqual(validateViewMessage({ type: 'ready', view: 'curves', protocol: 1 }), { type: 'ready', view: 'curves', protocol: 1 });
    assert.deepEqual(validateViewMessage({ type: 'addBlock', afterBlock: 3, extra: 'x' }), { type: 'addBlock', afterBlock: 3 });
    const bad: unknown[] = [
      null, [], { type: 'nope' }, { type: 'ready', view: 'other', protocol: 1 }, { type: 'ready', view: 'curves', protocol: 2 },
      { type: 'addBlock', afterBlock: -1 }, { type: 'addBlock', afterBlock: 1.5 }, { type: 'selectRuns', runIds: ['../x'] },
      { type: 'export', format: 'csv', fileName: '../../etc/passwd.csv', content: '' },
      { type: 'export', format: 'csv', fileName: 'a.png', content: '' },
      { type: 'export', format: 'png', fileName: 'a.png', dataUrl: 'data:text/html;base64,PGI+' },
      { type: 'export', format: 'png', fileName: 'a.png', dataUrl: 'javascript:alert(1)' },
    ];
    for (const b of bad) assert.throws(() => validateViewMessage(b), ViewMessageError, JSON.stringify(b));
    assert.throws(() => pngBytes('data:image/png;base64,AAAA'), ViewMessageError);
  });
  it('quotes CSV fields', () => {
    assert.equal(csvRow(['a,b', 'say "hi"', 1.5, NaN]), '"a,b","say ""hi""",1.5,');
  });
});

describe('importanceFromEvents', () => {
  it('assembles a valid ImportanceFile from streamed importance events (the last of a metric wins)', () => {
    const ev = (seq: number, metric: string, values: number[]) => parseEventLine(JSON.stringify({ v: 1, t: 1, run: 'r', seq, kind: 'importance', metric, values }));
    assert.equal(importanceFromEvents('m', [ev(0, 'removal_drop', [1, 2, 3])]), null, 'no angular distance, no chart');
    const got = importanceFromEvents('m', [ev(0, 'angular_all', [0.1, 0.2, 0.3]), ev(1, 'angular_last', [0.3, 0.2, 0.1]), ev(2, 'removal_drop', [9, 9]), ev(3, 'insert_copy_drop', [1, 2, 3]), ev(4, 'insert_copy_drop', [4, 5, 6])]);
    assert.ok(got);
    assert.deepEqual(validateImportanceFile(got.file), got.file);
    assert.equal(got.file.num_layers, 3);
    assert.equal(got.file.removal_drop, null, 'a series of the wrong length is left out');
    assert.deepEqual(got.file.insert_copy_drop, [4, 5, 6]);
    assert.deepEqual(got.missing, ['removal_drop', 'insert_average_drop']);
  });
});
