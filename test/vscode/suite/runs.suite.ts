// "Run Expansion" on localhost from the editor: the command dispatches the open plan through the
// same code as a remote host, the run appears in the registry, its events stream in, it finishes.
// The profile's settings (written by the wrapper) point localhost at the project venv's Python, a tiny
// random model of the plan's shape, 3 steps, and a throwaway work dir.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunnerEvent } from '../../../src/protocol/runnerEvents';
import { api, openPlan, waitFor } from './helpers';


describe('runs', function () {
  this.timeout(180_000);

  it('Run Expansion on localhost registers a run whose events arrive until it succeeds', async () => {
    const { runs } = await api();
    const editor = await openPlan('tiny.slayer');
    const before = new Set(runs.list().map((r) => r.id));
    const streamed: RunnerEvent[] = [];
    let changes = 0;
    const subs = [
      runs.onDidReceiveEvents((e) => streamed.push(...e.events)),
      runs.onDidChangeRuns(() => changes++),
    ];
    try {
      // One configured host (localhost) => no host picker; the phases given => no phase picker.
      await vscode.commands.executeCommand('slayer.runExpansion', editor.document.uri, { phases: ['doctor', 'surgery', 'train'] });
      const run = runs.list().find((r) => !before.has(r.id));
      assert.ok(run, 'Run Expansion added no run to the registry');
      assert.equal(run.host, 'localhost');
      assert.equal(run.planFile, editor.document.uri.fsPath);
      await waitFor(() => ['succeeded', 'failed', 'cancelled', 'lost'].includes(runs.get(run.id)?.state ?? ''), 150_000, `run ${run.id} to finish`);
      const final = runs.get(run.id)!;
      assert.equal(final.state, 'succeeded', `run ended ${final.state}: ${final.message ?? ''}\n${runs.logText(run.id).slice(-2000)}`);
      await waitFor(() => runs.events(run.id).some((e) => e.kind === 'done'), 10_000, 'the done event');

      const events = runs.events(run.id);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i), 'event seq numbers are gapless from 0');
      assert.ok(events.every((e) => e.run === run.id), 'every event names the run');
      const metrics = events.filter((e): e is Extract<RunnerEvent, { kind: 'metric' }> => e.kind === 'metric');
      assert.ok(metrics.length >= 1, 'no training metric arrived');
      assert.ok(metrics.every((m) => Number.isFinite(m.loss) && m.loss > 0), 'losses are finite and positive');
      const done = events.find((e) => e.kind === 'done');
      assert.equal(done?.kind === 'done' && done.status, 'succeeded');
      assert.ok(streamed.some((e) => e.run === run.id), 'onDidReceiveEvents never fired for the run');
      assert.ok(changes > 0, 'onDidChangeRuns never fired');
      assert.equal(final.lastStep, metrics.at(-1)!.step, 'the record keeps the last step');
      assert.match(final.name ?? '', /^tiny-\d+$/, 'the run has a readable name');
      assert.equal(typeof final.color, 'number', 'the run has a colour');
      assert.deepEqual(final.phases, ['doctor', 'surgery', 'train']);
    } finally {
      for (const s of subs) s.dispose();
    }
  });

  it('a run the doctor refuses ends as failed (never "queued"), with the report in its record and events', async () => {
    const { runs } = await api();
    const editor = await openPlan('tiny.slayer');
    const config = vscode.workspace.getConfiguration('slayer.runs');
    // The fixture's tiny/ holds only config.json: without random weights the doctor must refuse.
    await config.update('tinyModel', false, vscode.ConfigurationTarget.Workspace);
    const before = new Set(runs.list().map((r) => r.id));
    let ended = 0;
    const sub = runs.onDidEndRun(() => ended++);
    try {
      await vscode.commands.executeCommand('slayer.runExpansion', editor.document.uri, { phases: ['doctor', 'surgery', 'train'] });
      const run = runs.list().find((r) => !before.has(r.id));
      assert.ok(run, 'the refused run is not in the registry');
      assert.equal(run.state, 'failed');
      assert.equal(run.exitCode, 1);
      assert.match(run.message ?? '', /has a config\.json but no weights/);
      const events = runs.events(run.id);
      assert.deepEqual(events.map((e) => e.kind), ['error', 'done']);
      assert.match(runs.logText(run.id), /doctor: cannot run/);
      // Several status polls later it is still failed: no monitor turned it into "queued".
      await new Promise((r) => setTimeout(r, 5000));
      assert.equal(runs.get(run.id)?.state, 'failed');
      assert.equal(ended, 0, 'a refusal is announced by Run Expansion, not as the end of a streamed run');
    } finally {
      sub.dispose();
      await config.update('tinyModel', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
