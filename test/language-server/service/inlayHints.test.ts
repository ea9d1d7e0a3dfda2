// Inlay hints (language-server/service/inlayHints.ts) over real JSON-RPC: output ranges per segment,
// the implied deletion, steps per stage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InlayHintRequest, type Position } from 'vscode-languageserver-protocol';
import { PAPER_PLAN } from '../fixture';
import { posOf } from '../lspClient';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('inlay hints: output ranges per segment, the implied deletion, steps per stage', async () => {
  const { uri } = await s.show('paper.slayer', PAPER_PLAN);
  const hints = await s.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } });
  const got = (hints ?? []).map((h) => [h.position, h.label]);
  const endOf = (s: string, n = 0): Position => posOf(PAPER_PLAN, s, s.length, n);
  assert.deepEqual(got, [
    [endOf('(2+1)x8'), '→ 0–23'],
    [endOf('| 13'), '→ 24–36'],
    [endOf('1◇'), '→ 37 final'],
    [endOf('1◇'), '−2: blocks 30–31'],
    // 30B tokens × 2 epochs / (1024 × 4096 tokens per step) = 14,306 steps.
    [endOf('stage cpt'), '14,306 steps over 2 epochs (4.2M tokens/step)'],
  ]);
});
