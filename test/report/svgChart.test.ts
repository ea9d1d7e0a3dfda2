// SVG charts (src/report/svgChart.ts) and the report's series helpers: round ticks, log axes, escaping,
// bias-corrected EMA, sparklines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ema, sparkline } from '../../src/report/runReport';
import { lineChartSvg, niceTicks } from '../../src/report/svgChart';

test('chart helpers: EMA is bias-corrected, ticks are round, log axes skip non-positive values, text is escaped', () => {
  assert.deepEqual(ema([2, 2, 2], 0.9).map((v) => Number(v.toFixed(12))), [2, 2, 2]);
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3.1, 9.7, 3), [4, 6, 8]);
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  const svg = lineChartSvg({ title: 'a<b', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's&t', color: '#000', points: [[0, 1], [1, 0], [2, 10]] }] });
  assert.match(svg, /data-series="s&amp;t" data-points="2"/);
  assert.match(svg, />a&lt;b</);
});

test('a log axis spanning less than two decades still has labelled ticks', () => {
  const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', color: '#000', points: [[0, 5.6], [1, 4.7]] }] });
  const labels = [...svg.matchAll(/text-anchor="end" dominant-baseline="middle"[^>]*>([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(labels, ['4.8', '5', '5.2', '5.4', '5.6']);
});
