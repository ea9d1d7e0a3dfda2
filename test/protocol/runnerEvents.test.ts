import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine, EventError } from '../../src/protocol/runnerEvents';

const fixtures = join(__dirname, '..', '..', 'contracts', 'fixtures', 'events');
const lines = (name: string): string[] => readFileSync(join(fixtures, name), 'utf8').split('\n').filter((l) => l.trim() !== '');

test('every shared valid example parses, in sequence', () => {
  const events = lines('valid.jsonl').map(parseEventLine);
  assert.equal(events.length, 11);
  assert.deepEqual(events.map((e) => e.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual([...new Set(events.map((e) => e.kind))].sort(), ['artifact', 'done', 'error', 'eval', 'importance', 'log', 'metric', 'phase', 'progress']);
  const metric = events.find((e) => e.kind === 'metric');
  assert.ok(metric && metric.kind === 'metric' && metric.loss === 3.25);
});

test('every shared invalid example is rejected with an EventError', () => {
  const bad = lines('invalid.jsonl');
  assert.equal(bad.length, 20);
  for (const l of bad) assert.throws(() => parseEventLine(l), EventError, l);
});
