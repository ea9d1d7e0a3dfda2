// The language-server protocol module's readers: settings from any client, remote answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointFindings, DEFAULT_SERVER_SETTINGS, isRemoteModelConfigResult, readServerSettings } from '../../src/protocol/languageServer';

test('settings: defaults for anything missing or malformed, values clamped', () => {
  assert.deepEqual(readServerSettings(null), DEFAULT_SERVER_SETTINGS);
  assert.deepEqual(readServerSettings('x'), DEFAULT_SERVER_SETTINGS);
  assert.deepEqual(readServerSettings({ debounceMs: -1, inlayHints: 'no' }), DEFAULT_SERVER_SETTINGS);
  assert.deepEqual(readServerSettings({ debounceMs: Infinity }), DEFAULT_SERVER_SETTINGS);
  assert.deepEqual(readServerSettings({ debounceMs: 0, inlayHints: false, trace: { server: 'off' } }), { debounceMs: 0, inlayHints: false });
  assert.equal(readServerSettings({ debounceMs: 1e9 }).debounceMs, 5000);
});

test('remote answers: ok with config text, or error with a message; nothing else', () => {
  assert.equal(isRemoteModelConfigResult({ status: 'ok', configJson: '{}' }), true);
  assert.equal(isRemoteModelConfigResult({ status: 'error', message: 'no' }), true);
  assert.equal(isRemoteModelConfigResult({ status: 'ok', configJson: '{}', findings: [{ severity: 'error', message: 'm' }] }), true);
  assert.equal(isRemoteModelConfigResult({ status: 'ok', configJson: '{}', findings: [{ severity: 'info', message: 'm' }] }), false);
  assert.equal(isRemoteModelConfigResult({ status: 'ok', configJson: '{}', findings: 'none' }), false);
  assert.equal(isRemoteModelConfigResult({ status: 'ok' }), false);
  assert.equal(isRemoteModelConfigResult({ status: 'ok', configJson: {} }), false);
  assert.equal(isRemoteModelConfigResult({ status: 'pending' }), false);
  assert.equal(isRemoteModelConfigResult(null), false);
  assert.equal(isRemoteModelConfigResult('ok'), false);
});

test('checkpoint findings: warnings and errors of a checkpoint with weights; none without weights', () => {
  const diagnostics = [{ severity: 'info', message: 'i' }, { severity: 'warning', message: 'w' }, { severity: 'error', message: 'e', extra: 1 }];
  assert.deepEqual(checkpointFindings({ shards: 2, diagnostics }), [{ severity: 'warning', message: 'w' }, { severity: 'error', message: 'e' }]);
  assert.deepEqual(checkpointFindings({ shards: 0, diagnostics }), []);
});
