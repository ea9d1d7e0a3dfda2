// "Suggest expansion from importance" over real JSON-RPC against the spawned server: a run's
// importance.json in the workspace (where Fetch Run Artifacts puts it) makes the server offer
// rewrites of the expand line; applied, the plan re-checks clean and puts its new blocks where the
// strategy's definition says (read back with the analyzer's layout, not the suggestion code).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, DidChangeWatchedFilesNotification, FileChangeType, type CodeAction } from 'vscode-languageserver-protocol';
import { analyzePlan } from '../../../src/core';
import { useWorkspaceServer } from '../fixture';
import { applyEdits } from '../lspClient';

const L = 32;
// removal_drop: falling with depth, with the shallow blocks 2, 5, 6, 9, 10, 12, 13, 14 standing out.
const PEAKS = [2, 5, 6, 9, 10, 12, 13, 14];
const removal = Array.from({ length: L }, (_, i) => (PEAKS.includes(i) ? 1 + i / 100 : 0.5 - i / 100));
const importanceJson = (model: string): string => JSON.stringify({
  v: 1, model, num_layers: L, calibration: { source: 'sample.txt', sequences: 4, tokens: 256, seq_len: 64 }, baseline_loglik: -5,
  angular_all: removal.map((x) => x / 10), angular_last: removal.map((x) => x / 10), removal_drop: removal, insert_copy_drop: null, insert_average_drop: null,
});

const ls = useWorkspaceServer({}, [], (fx) => {
  mkdirSync(join(fx.workspace, '.slayer', 'runs', 'r-1', 'out'), { recursive: true });
  writeFileSync(join(fx.workspace, '.slayer', 'runs', 'r-1', 'out', 'importance.json'), importanceJson('/data/models/Llama-2-7b-hf'));
});
const { show } = ls;

async function suggestionsOnLine(uri: string, line: number): Promise<CodeAction[]> {
  const r = await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: { start: { line, character: 0 }, end: { line, character: 0 } }, context: { diagnostics: [] } });
  return (r ?? []).filter((x): x is CodeAction => 'kind' in x && x.kind === 'refactor.rewrite.slayer.suggest');
}

/** Base blocks each new block follows, from the analyzer's layout of the edited plan. */
function anchors(text: string): number[] {
  const a = analyzePlan(text);
  const out: number[] = [];
  let base = -1;
  for (const b of a.layout!.blocks) {
    if (b.role === 'kept') base = b.sources[0]!.layer;
    else if (b.role === 'new') out.push(base);
  }
  return out;
}

describe('suggestion code actions on the expand line', () => {
  test('offers the paper\'s placement and the importance-ranked one; each applied re-checks clean', async () => {
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x7 | 1 | 1◇\n';
    const { uri, diagnostics: before } = await show('plan.slayer', text);
    assert.deepEqual(before.filter((d) => d.severity === 1), []);
    assert.deepEqual(await suggestionsOnLine(uri, 0), [], 'only on the expand line');
    const actions = await suggestionsOnLine(uri, 1);
    const byStrategy = new Map(actions.map((a) => [/\((slayer|importance)\)/.exec(a.title)![1]!, a]));
    assert.deepEqual([...byStrategy.keys()].sort(), ['importance', 'slayer']);
    // The plan's budget: 7 new blocks, 2 deleted (the deepest, removal_drop falls with depth).
    for (const [strategy, action] of byStrategy) {
      const edited = applyEdits(text, action.edit!.changes![uri]!);
      const { diagnostics } = await show('plan.slayer', edited);
      assert.deepEqual(diagnostics.map((d) => `${String(d.code)} ${d.message}`), [], `${strategy}: ${edited}`);
      const a = analyzePlan(edited);
      assert.equal(a.layout!.newCount, 7);
      assert.deepEqual(a.layout!.deleted, [30, 31]);
      assert.equal(a.layout!.final?.original, 29, 'the updated final block stays');
      assert.equal(a.layout!.numLayers, L + 7 - 2);
      // slayer: 16 shallow blocks in 7 groups (sizes 2 ×5 then 3 ×2): after 1, 3, 5, 7, 9, 12, 15.
      // importance: after the 7 shallow blocks with the largest removal drop.
      const expected = strategy === 'slayer'
        ? [2, 2, 2, 2, 2, 3, 3].reduce<number[]>((acc, size) => [...acc, (acc[acc.length - 1] ?? -1) + size], [])
        : Array.from({ length: 16 }, (_, i) => i).sort((x, y) => removal[y]! - removal[x]!).slice(0, 7).sort((x, y) => x - y);
      assert.deepEqual(anchors(edited), expected, `${strategy}: ${edited}`);
      assert.ok(action.title.includes('deletes 30 (31), 31 (32) (0-based, paper 1-based)'), action.title);
      assert.ok(action.title.includes(`${L + 7 - 2} blocks`), action.title);
      await show('plan.slayer', text);
    }
  });

  test('not offered for another model, nor when nothing is measured', async () => {
    const { uri } = await show('mistral.slayer', 'model mistralai/Mistral-7B-v0.1\nexpand (4+1)x8\n');
    assert.deepEqual(await suggestionsOnLine(uri, 1), [], 'a 32-block Mistral is not the measured Llama-2-7b-hf');
    // Once the measurement is gone (the watched file deleted), no suggestion remains.
    const { uri: llama } = await show('llama.slayer', 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n');
    assert.ok((await suggestionsOnLine(llama, 1)).length > 0);
    const file = join(ls.fx.workspace, '.slayer', 'runs', 'r-1', 'out', 'importance.json');
    writeFileSync(file, '{"v": 1, "truncated');
    await ls.c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(file).href, type: FileChangeType.Changed }] });
    assert.deepEqual(await suggestionsOnLine(llama, 1), [], 'a malformed importance.json is skipped');
  });
});
