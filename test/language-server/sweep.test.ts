// The sweep section over real JSON-RPC to the spawned server: diagnostics at the exact words of the
// variant line (their codes linking to the docs), a variant's fix applied and the plan re-checked
// clean, the hover on a variant's name (what it compiles to), completion on a variant line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodeActionRequest, CompletionRequest, HoverRequest, type CodeAction, type CompletionItem, type Diagnostic, type MarkupContent, type Position } from 'vscode-languageserver-protocol';
import { useWorkspaceServer } from './fixture';
import { applyEdits, posOf } from './lspClient';

const ls = useWorkspaceServer({}, []);
const { show } = ls;

const range = (text: string, needle: string, n = 0) => ({ start: posOf(text, needle, 0, n), end: posOf(text, needle, needle.length, n) });
const msg = (d: Diagnostic): string => (typeof d.message === 'string' ? d.message : d.message.value);

const PLAN = `model meta-llama/Llama-2-7b-hf
expand (2+1)x8 | 13 | 1◇
train new, final
stage cpt
  data proof-pile-2
run on localhost gpus 8
sweep placement
  interleaved  (4+1)x8  train new
  deep         16 (2+1)x8|q  train new
  wide         (2+1)x8 | 40
  full         none  train all
  last8        none  trian last 8
`;

describe('sweep section over JSON-RPC', () => {
  test('diagnostics sit on the variant\'s words; a problem elsewhere sits on its name; codes link to the docs', async () => {
    const text = PLAN.replace('  data proof-pile-2\n', '  data proof-pile-2\n  lr 2\n');
    const { diagnostics } = await show('sweep.slayer', text);
    const at = (code: string, r: ReturnType<typeof range>): Diagnostic => {
      const d = diagnostics.find((x) => x.code === code && JSON.stringify(x.range) === JSON.stringify(r));
      assert.ok(d, `${code} at ${JSON.stringify(r)} in ${JSON.stringify(diagnostics.map((x) => [x.code, x.range.start, x.message]))}`);
      return d;
    };
    assert.match(msg(at('SL021', range(text, 'q'))), /^variant deep: /);
    assert.match(msg(at('SL022', range(text, '(2+1)x8 | 40'))), /^variant wide: the segments cover 56 blocks/);
    assert.match(msg(at('SL002', range(text, 'trian'))), /did you mean "train"/);
    // The inherited `train new, final` has no final block in "wide": shown on its name, pointing at the train line.
    const inherited = at('SL071', range(text, 'wide'));
    assert.match(msg(inherited), /^variant wide: "final" is in the train set .* \[SL030\]$/);
    assert.deepEqual(inherited.relatedInformation?.[0]?.location.range, range(text, 'train new, final'));
    assert.match(String(inherited.codeDescription!.href), /plan-language\.md#sl071$/);
    // The plan's own problem once, at the plan, not once per variant.
    assert.deepEqual(diagnostics.filter((d) => d.code === 'SL042').map((d) => d.range), [range(text, '2', 3)]);
  });

  test('a variant\'s fix edits the variant line, and the plan re-checks clean', async () => {
    const text = PLAN.replace('  deep         16 (2+1)x8|q  train new\n', '').replace('trian', 'train').replace('(2+1)x8 | 40', '(2+1)x8 | 40  train new');
    const { uri, diagnostics } = await show('sweep-fix.slayer', text);
    const d = diagnostics.find((x) => x.code === 'SL022')!;
    const r = await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    const fix = (r ?? []).filter((x): x is CodeAction => 'kind' in x).find((a) => /Keep 16 blocks/.test(a.title))!;
    assert.ok(fix, JSON.stringify(r));
    const fixed = applyEdits(text, fix.edit!.changes![uri]!);
    assert.match(fixed, /^ {2}wide {9}\(2\+1\)x8 \| 16 {2}train new$/m);
    const after = await show('sweep-fix.slayer', fixed);
    assert.deepEqual(after.diagnostics.filter((x) => x.severity === 1 || x.severity === 2).map((x) => [x.code, x.message]), []);
  });

  test('hover on a variant\'s name: what it compiles to; completion on a variant line', async () => {
    const text = PLAN.replace('  deep         16 (2+1)x8|q  train new\n', '').replace('trian', 'train');
    const { uri } = await show('sweep-hover.slayer', text);
    const hover = async (p: Position): Promise<string> => ((await ls.c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: p }))?.contents as MarkupContent | undefined)?.value ?? '';
    const pro = await hover(posOf(text, 'interleaved', 2));
    assert.match(pro, /\*\*variant interleaved\*\* of sweep placement: runs as `placement-interleaved`/);
    assert.match(pro, /`\(4\+1\)x8`: 32 → 40 blocks, 8 new, 0 deleted/);
    assert.match(pro, /trainable blocks \(0-based\): 4, 9, 14, 19, 24, 29, 34, 39/);
    assert.match(pro, /parameters: 8,357,482,496, trainable 1,619,066,880/);
    const full = await hover(posOf(text, 'full', 1));
    assert.match(full, /trainable 6,738,415,616 \(100\.0%\)/);
    const complete = async (p: Position): Promise<string[]> => {
      const r = await ls.c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: p });
      return (Array.isArray(r) ? r : (r?.items ?? [])).map((i: CompletionItem) => i.label);
    };
    const lastLine = text.split('\n').length - 2;
    assert.ok((await complete({ line: lastLine, character: '  last8        none  train '.length })).includes('last'));
    assert.deepEqual(await complete({ line: lastLine, character: 2 }), [], 'a variant\'s name is the user\'s');
  });
});
