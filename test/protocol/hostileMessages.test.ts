// Issue 14 case 12: refusals that gave the wrong reason. A LayerMap with "version": "1" read as
// "unsupported version 1 (this build reads 1)"; a 300-character run id was refused for its
// characters instead of its length.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePlan } from '../../src/core';
import { validateLayerMap } from '../../src/protocol/layerMap';
import { checkRunId } from '../../src/remote/runScripts';

test('LayerMap "version": "1" says the version is a string', () => {
  const map = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n').layerMap;
  assert.ok(map);
  assert.throws(() => validateLayerMap(JSON.parse(JSON.stringify({ ...map, version: '1' }))),
    { message: 'version: unsupported LayerMap version "1" (a string): this build reads version 1, the number' });
  assert.throws(() => validateLayerMap(JSON.parse(JSON.stringify({ ...map, version: 2 }))), { message: 'version: unsupported LayerMap version 2: this build reads version 1, the number' });
});

test('a 300-character run id is refused for its length; bad characters and "." for what they are', () => {
  const long = 'a'.repeat(300);
  assert.throws(() => checkRunId(long), { message: `run id "${'a'.repeat(57)}…" is 300 characters long; at most 128 are allowed` });
  assert.equal(checkRunId('a'.repeat(128)), 'a'.repeat(128));
  assert.throws(() => checkRunId('a b'), { message: 'invalid run id "a b": " " is not allowed (letters, digits, ".", "_" and "-" only)' });
  assert.throws(() => checkRunId('..'), { message: 'run id ".." would name a directory above the run' });
  assert.throws(() => checkRunId(''), { message: 'a run id cannot be empty' });
});
