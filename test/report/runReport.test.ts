// The run report (src/report/runReport.ts): events read from a run directory, steps repeated after a
// resume replace earlier points, charts with the plan overlay, and the summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRunReport, metricsByStage, readRunDir } from '../../src/report/runReport';
import { makeRunDir } from './runDirFixture';

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
