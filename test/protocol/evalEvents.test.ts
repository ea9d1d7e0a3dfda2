import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine, EventError } from '../../src/protocol/runnerEvents';

// The `eval` kind's lines among the shared examples (runner/tests/test_evaluation.py reads the same
// files; test/contracts compares both sides' verdicts on every line).
const fixtures = join(__dirname, '..', '..', 'contracts', 'fixtures', 'events');
const evalLines = (name: string): string[] => readFileSync(join(fixtures, name), 'utf8').split('\n').filter((l) => l.includes('"kind":"eval"'));

test('eval events: the shared valid examples parse with their settings', () => {
  const events = evalLines('valid.jsonl').map(parseEventLine);
  assert.equal(events.length, 2);
  const [harness, ppl] = events.filter((e) => e.kind === 'eval');
  assert.ok(harness && harness.settings.shots === 5 && harness.settings.harness_version === '0.4.13');
  assert.ok(ppl && ppl.source === 'perplexity' && !ppl.higher_is_better && ppl.cached);
});

test('eval events: every shared invalid example is rejected', () => {
  const bad = evalLines('invalid.jsonl');
  assert.equal(bad.length, 10);
  for (const l of bad) assert.throws(() => parseEventLine(l), EventError, l);
});
