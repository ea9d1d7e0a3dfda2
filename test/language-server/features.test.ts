// Editor features over real JSON-RPC against the spawned server: hovers, completion, code actions
// (each edit applied to the text, then the document re-checked), inlay hints, semantic tokens,
// symbols, folding, formatting and code lenses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CodeActionRequest, CodeLensRequest, DidChangeConfigurationNotification, DocumentFormattingRequest, DocumentSymbolRequest, FoldingRangeRequest, HoverRequest,
  InlayHintRequest, SemanticTokensRequest, type CodeAction, type Diagnostic, type DocumentSymbol, type Position, type TextEdit,
} from 'vscode-languageserver-protocol';
import { PAPER_PLAN, useWorkspaceServer } from './fixture';
import { applyEdits, posOf } from './lspClient';

const ls = useWorkspaceServer();
const { show, hoverText, complete } = ls;

describe('hover', () => {
  test('the expansion: depth L + N − D, parameters with and without the head, memory per GPU, the table of blocks', async () => {
    const { uri } = await show('paper.slayer', PAPER_PLAN);
    const text = await hoverText(uri, posOf(PAPER_PLAN, ' | 13', 1));
    assert.match(text, /Depth: L \+ N − D = 32 \+ 8 − 2 = \*\*38\*\* blocks/);
    assert.match(text, /Deleted: 30 \(31\), 31 \(32\)/);
    assert.match(text, /\| total \| 7,952,715,776 \(7\.95B\) \|/);
    assert.match(text, /\| trainable, blocks only \| 1,821,450,240 /);
    assert.match(text, /\| trainable, with the head \| 1,952,522,240 /);
    // bf16 over 8 GPUs (run on a100-box gpus 8): DDP holds everything on each GPU.
    // 7,952,715,776 × 2 bytes of bf16 weights + 1,952,522,240 trainable × (2 + 8 + 4) bytes = 40.3 GiB;
    // sharded over 8 GPUs: 5.0 GiB.
    assert.match(text, /Training memory per GPU \(bf16, before activations\): DDP \*\*40\.3 GiB\*\*; FSDP over 8 GPUs \*\*5\.0 GiB\*\*/);
    assert.match(text, /\(DDP: weights 14\.8 GiB, gradients 3\.6 GiB, AdamW moments 14\.5 GiB, fp32 master 7\.3 GiB\)/);
    assert.match(text, /\| 2 \| new \| 1 \(2\) \+ 2 \(3\) \| average \| o_proj, down_proj \| yes \|/);
    assert.match(text, /\| 37 \| final \| 29 \(30\) \+ 30 \(31\) \+ 31 \(32\) \| final-average \| — \| yes \|/);
    assert.match(text, /\| 36 \| kept \| 28 \(29\) \| kept \| — \| no \|/);
    assert.equal(text.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, 38);
  });

  test('a segment: the original blocks it covers, 0-based with the paper\'s 1-based in parentheses', async () => {
    const uri = ls.fx.uri('paper.slayer');
    const seg13 = await hoverText(uri, posOf(PAPER_PLAN, '13 |', 1));
    assert.match(seg13, /\*\*Segment `13`\*\*\n\nCovers original blocks 16–28 \(17–29\)\.\nProduces output blocks 24–36\./);
    const group = await hoverText(uri, posOf(PAPER_PLAN, '(2+1)x8', 3));
    assert.match(group, /Covers original blocks 0–15 \(1–16\)\.\nProduces output blocks 0–23\.\nNew blocks: 2, 5, 8, 11, 14, 17, 20, 23\./);
    const final = await hoverText(uri, posOf(PAPER_PLAN, '1◇'));
    assert.match(final, /Covers original block 29 \(30\)\.[\s\S]*updated final block \(output 37\)/);
  });

  test('keys, values and the model have documentation', async () => {
    const uri = ls.fx.uri('paper.slayer');
    assert.match(await hoverText(uri, posOf(PAPER_PLAN, 'train ', 2)), /^\*\*train\*\* — What trains: any of `new`, `final`/);
    assert.match(await hoverText(uri, posOf(PAPER_PLAN, 'tokens', 1)), /^\*\*tokens\*\* — Token budget/);
    assert.match(await hoverText(uri, posOf(PAPER_PLAN, 'head', 1)), /^\*\*head\*\* — The output head/);
    assert.match(await hoverText(uri, posOf(PAPER_PLAN, 'gpus', 1)), /^\*\*gpus\*\*/);
    const model = await hoverText(uri, posOf(PAPER_PLAN, 'Llama-2', 2));
    assert.match(model, /\*\*meta-llama\/Llama-2-7b-hf\*\* \(built-in catalogue\)\n\nllama, 32 blocks \(0–31\), hidden 4096/);
    assert.equal(await hoverText(uri, posOf(PAPER_PLAN, 'SLayer-8B')), '', 'comments have no hover');
  });
});

describe('completion', () => {
  test('hosts after "run on": ~/.ssh/config aliases without wildcards, following Include, and localhost', async () => {
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nrun on \n';
    const { uri } = await show('run.slayer', text);
    const labels = (await complete(uri, { line: 2, character: 7 })).map((i) => i.label);
    assert.deepEqual(labels, ['gpu-box', 'a100-box', 'cluster-a', 'login-node', 'localhost']);
  });

  test('model ids from the catalogue, local checkpoint directories, and directory listing while typing a path', async () => {
    const text = 'model \nexpand (4+1)x8\n';
    const { uri } = await show('model.slayer', text);
    const items = await complete(uri, { line: 0, character: 6 });
    const labels = items.map((i) => i.label);
    assert.ok(labels.includes('meta-llama/Llama-2-7b-hf'));
    assert.ok(labels.includes('Qwen/Qwen2.5-7B'));
    assert.ok(labels.includes('./ckpt') && labels.includes('./models/tiny'), labels.join(' '));
    assert.equal(items.find((i) => i.label === 'meta-llama/Llama-2-7b-hf')!.detail, '32 blocks, hidden 4096 (catalogue)');
    const typed = 'model ./models/\nexpand (4+1)x8\n';
    await show('model.slayer', typed);
    const dirs = await complete(uri, { line: 0, character: 15 });
    assert.deepEqual(dirs.map((i) => [i.label, i.detail]), [['tiny', 'checkpoint (config.json)']]);
    const edit = dirs[0]!.textEdit as TextEdit;
    assert.deepEqual(edit.range, { start: { line: 0, character: 15 }, end: { line: 0, character: 15 } });
  });

  test('dataset names used in the workspace after "data", keys at the start of lines, enumerations', async () => {
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\ninit \ntrain new, \n\nstage cpt\n  data corpus-a, \n  \n';
    const { uri } = await show('data.slayer', text);
    const data = (await complete(uri, { line: 6, character: 17 })).map((i) => i.label);
    // From another plan in the workspace and from the open paper plan; corpus-a is already on the line.
    assert.deepEqual(data, ['my-instructions', 'openhermes', 'proof-pile-2', 'the-stack-dedup/python']);
    const stageKeys = (await complete(uri, { line: 7, character: 2 })).map((i) => i.label);
    assert.ok(stageKeys.includes('tokens') && stageKeys.includes('weight-decay') && !stageKeys.includes('model'));
    assert.deepEqual((await complete(uri, { line: 2, character: 5 })).map((i) => i.label), ['copy', 'average']);
    assert.deepEqual((await complete(uri, { line: 3, character: 11 })).map((i) => i.label), ['final', 'kept', 'head', 'norm', 'embed']);
  });

  test('snippets for a whole plan and the paper\'s plans at the start of a top-level line', async () => {
    const { uri } = await show('empty.slayer', '\n');
    const items = await complete(uri, { line: 0, character: 0 });
    const labels = items.map((i) => i.label);
    for (const l of ['model', 'expand', 'stage', 'plan', 'plan: SLayer-8B (paper)', 'plan: LLaMA Pro', 'plan: Table 3, 3 deleted']) assert.ok(labels.includes(l), l);
    // Keys already in a plan sort after the others.
    const withModel = 'model meta-llama/Llama-2-7b-hf\n\n';
    await show('empty.slayer', withModel);
    const keys = (await complete(uri, { line: 1, character: 0 })).filter((i) => i.kind === 14).sort((x, y) => x.sortText!.localeCompare(y.sortText!));
    assert.deepEqual(keys.map((i) => i.label), ['expand', 'init', 'zero', 'final', 'train', 'stage', 'eval', 'run', 'model']);
    assert.equal(keys[keys.length - 1]!.detail, 'already given on line 1');
    const paper = items.find((i) => i.label === 'plan: SLayer-8B (paper)')!;
    assert.equal(paper.insertTextFormat, 2);
    assert.match((paper.textEdit as TextEdit).newText, /^model {3}\$\{1:meta-llama\/Llama-2-7b-hf\}\nexpand {2}\(2\+1\)x8 \| 13 \| 1◇\n/);
  });
});

describe('code actions', () => {
  async function fixesAt(uri: string, d: Diagnostic): Promise<CodeAction[]> {
    const r = await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    return (r ?? []).filter((x): x is CodeAction => 'kind' in x);
  }
  /** Applies the action's edit, sends the new text, and returns the new diagnostics. */
  async function apply(name: string, text: string, action: CodeAction): Promise<{ text: string; diagnostics: Diagnostic[] }> {
    const uri = ls.fx.uri(name);
    const next = applyEdits(text, action.edit!.changes![uri]!);
    return { text: next, diagnostics: (await show(name, next)).diagnostics };
  }
  const cases: { name: string; text: string; code: string; title: RegExp; after: string }[] = [
    { name: 'unknown key → nearest key', text: 'modle meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n', code: 'SL002', title: /^Change to "model"$/, after: 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n' },
    { name: 'make the implied deletion explicit', text: 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x7 | 2\n', code: 'SL023', title: /^Make the deletion explicit \(\| -2\)$/, after: 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x7 | 2 | -2\n' },
    { name: 'adjust the keep segment to the layer count', text: 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 17 | 1◇\n', code: 'SL022', title: /^Keep 14 blocks instead of 17 so the plan fits 32 blocks and still deletes 1 block/, after: 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 14 | 1◇\n' },
    { name: 'normalise notation', text: 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)×8  13 | 1<> | -2\n', code: 'SL031', title: /^Normalise notation to "\(2\+1\)x8 \| 13 \| 1◇ \| -2"$/, after: 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇ | -2\n' },
  ];
  for (const k of cases) {
    test(`${k.name} (${k.code}): applying the edit makes the diagnostic go away`, async () => {
      const file = `fix-${k.code}.slayer`;
      const { uri, diagnostics } = await show(file, k.text);
      const d = diagnostics.find((x) => x.code === k.code);
      assert.ok(d, `${k.code} in ${JSON.stringify(diagnostics)}`);
      const action = (await fixesAt(uri, d)).find((a) => k.title.test(a.title));
      assert.ok(action, `a fix titled ${k.title}`);
      assert.equal(action.kind, 'quickfix');
      assert.deepEqual(action.diagnostics?.map((x) => x.code), [k.code]);
      const after = await apply(file, k.text, action);
      assert.equal(after.text, k.after);
      assert.ok(!after.diagnostics.some((x) => x.code === k.code), `${k.code} gone: ${JSON.stringify(after.diagnostics)}`);
    });
  }

  test('"fix all" applies every safe fix at once', async () => {
    const text = 'modle meta-llama/Llama-2-7b-hf\nexpand (2+1)×8 | 13 | 1◇\ntrain new,fnal\ntokens 30B\nstage cpt\n  data x\n  tokns 1B\n';
    const { uri, diagnostics } = await show('fixall.slayer', text);
    assert.deepEqual(diagnostics.map((d) => d.code).filter((x) => x !== 'SL023').sort(), ['SL002', 'SL002', 'SL004', 'SL005', 'SL010', 'SL031']);
    const r = await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll'] } });
    const all = (r ?? []) as CodeAction[];
    assert.deepEqual(all.map((a) => [a.title, a.kind]), [['Fix all safe SLayer problems', 'source.fixAll.slayer']]);
    const after = await apply('fixall.slayer', text, all[0]!);
    assert.equal(after.text, 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\ntrain new,final\ntokens 30B\nstage cpt\n  data x\n  tokens 1B\n');
    // Left: "tokens" before any stage (no safe fix: which stage would it go to?).
    assert.deepEqual(after.diagnostics.map((d) => d.code).filter((x) => x !== 'SL023'), ['SL005']);
  });
});

describe('inlay hints, semantic tokens, symbols, folding, formatting, code lens', () => {
  test('inlay hints: output ranges per segment, the implied deletion, steps per stage', async () => {
    const { uri } = await show('paper.slayer', PAPER_PLAN);
    const hints = await ls.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } });
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

  test('semantic tokens: keys, numbers and operators of the expression, comments, values', async () => {
    const uri = ls.fx.uri('paper.slayer');
    const legend = ls.c.init.capabilities.semanticTokensProvider!.legend;
    const r = await ls.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    const data = r!.data;
    const tokens: { line: number; char: number; text: string; type: string; mods: string[] }[] = [];
    let line = 0;
    let char = 0;
    const lines = PAPER_PLAN.split('\n');
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      char = data[i]! === 0 ? char + data[i + 1]! : data[i + 1]!;
      tokens.push({ line, char, text: lines[line]!.slice(char, char + data[i + 2]!), type: legend.tokenTypes[data[i + 3]!]!, mods: legend.tokenModifiers.filter((_, b) => data[i + 4]! & (1 << b)) });
    }
    const on = (l: number): string[] => tokens.filter((t) => t.line === l).map((t) => `${t.text}:${t.type}`);
    assert.deepEqual(on(0), ['# SLayer-8B:comment']);
    assert.deepEqual(on(1), ['model:keyword', 'meta-llama/Llama-2-7b-hf:string']);
    assert.deepEqual(on(2), ['expand:keyword', '(:operator', '2:number', '+:operator', '1:number', '):operator', 'x:operator', '8:number', '|:operator', '13:number', '|:operator', '1:number', '◇:macro']);
    assert.deepEqual(on(3), ['train:keyword', 'new:enumMember', 'final:enumMember', 'head:enumMember']);
    assert.ok(on(8).includes('cosine:enumMember'), on(8).join(' '));
    assert.deepEqual(on(5), ['stage:keyword', 'cpt:variable']);
    assert.deepEqual(on(6), ['data:property', 'proof-pile-2:string', '5:number', 'the-stack-dedup/python:string', '2:number']);
    assert.deepEqual(on(12), ['run:keyword', 'on:parameter', 'a100-box:namespace', 'gpus:parameter', '8:number']);
    assert.deepEqual(tokens.find((t) => t.text === 'cpt')!.mods, ['declaration']);
  });

  test('deleted blocks are marked deprecated in the expression', async () => {
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇ | -2\n';
    const { uri } = await show('deleted.slayer', text);
    const legend = ls.c.init.capabilities.semanticTokensProvider!.legend;
    const data = (await ls.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data;
    const last = data.slice(-10);
    assert.deepEqual([legend.tokenTypes[last[3]!], legend.tokenTypes[last[8]!]], ['operator', 'number']);
    assert.equal(legend.tokenModifiers[Math.log2(last[9]!)], 'deprecated');
  });

  test('symbols: model, expansion with its segments, stages with settings, run', async () => {
    const uri = ls.fx.uri('paper.slayer');
    const syms = (await ls.c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    assert.deepEqual(syms.map((s) => s.name), ['model meta-llama/Llama-2-7b-hf', 'expand (2+1)x8 | 13 | 1◇', 'train new, final, head', 'stage cpt', 'run on a100-box gpus 8']);
    assert.deepEqual(syms[1]!.children!.map((s) => [s.name, s.detail]), [['(2+1)x8', '→ output 0–23'], ['13', '→ output 24–36'], ['1◇', '→ output 37–37']]);
    assert.equal(syms[1]!.detail, '38 blocks');
    assert.deepEqual(syms[3]!.children!.map((s) => s.name.split(' ')[0]), ['data', 'tokens', 'lr', 'warmup', 'batch', 'epochs']);
    assert.deepEqual(syms[3]!.range, { start: { line: 5, character: 0 }, end: { line: 10, character: 12 } });
  });

  test('folding: stage blocks and runs of comments', async () => {
    const text = '# a\n# b\nmodel meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nstage cpt\n  data x\n  tokens 1B\n\nstage sft\n  data y\n';
    const { uri } = await show('fold.slayer', text);
    const f = await ls.c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
    assert.deepEqual(f!.map((r) => [r.startLine, r.endLine, r.kind ?? '']), [[0, 1, 'comment'], [4, 6, ''], [8, 9, '']]);
  });

  test('formatting: aligned columns and canonical notation, in one edit; nothing to do on formatted text', async () => {
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)×8   13|1<>\ntrain new, final  # t\nstage cpt\n    data x\n    tokens 1B\n';
    const { uri } = await show('format.slayer', text);
    const edits = await ls.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    const formatted = applyEdits(text, edits!);
    assert.equal(formatted, 'model   meta-llama/Llama-2-7b-hf\nexpand  (2+1)x8 | 13 | 1◇\ntrain   new, final  # t\nstage cpt\n  data    x\n  tokens  1B\n');
    await show('format.slayer', formatted);
    assert.deepEqual(await ls.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
  });

  test('code lenses on the expansion line call the registered commands with the document', async () => {
    const uri = ls.fx.uri('paper.slayer');
    await show('paper.slayer', PAPER_PLAN);
    const lenses = await ls.c.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
    assert.deepEqual(lenses!.map((l) => [l.range.start.line, l.command!.title, l.command!.command, l.command!.arguments]), [
      [2, '$(play) Run Expansion', 'slayer.runExpansion', [uri]],
      [2, '$(graph) Layer Importance', 'slayer.showImportance', [uri]],
      [2, '$(layers) Preview Layer Map', 'slayer.showLayerMap', [uri]],
    ]);
  });
});

describe('settings', () => {
  test('a configuration change is read again: inlay hints turned off', async () => {
    const { uri } = await show('paper.slayer', PAPER_PLAN);
    const hints = async (): Promise<number> => ((await ls.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } })) ?? []).length;
    assert.equal(await hints(), 5);
    ls.c.settings['slayer.languageServer'] = { debounceMs: 0, inlayHints: false };
    const asked = ls.c.configurationRequests.length;
    await ls.c.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    const deadline = Date.now() + 5000;
    while (ls.c.configurationRequests.length === asked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await hints(), 0);
    ls.c.settings['slayer.languageServer'] = { debounceMs: 0 };
  });
});

describe('robustness', () => {
  test('hover and completion answer at every position of a broken plan; the other requests answer too', async () => {
    const text = '  # x\nmodel\nexpand (2+|x3 ◇◇ -0 (0+1)x0 −\ntrain ,,new,\nzero none, o_proj\nstage\n  data a:, :2, b c\n  lr\n\tbatch 1 y 2 precision\nstage s cpt extra\nrun on bad$host gpus 0 nodes\nmodle ./x  # c\n';
    const { uri } = await show('broken.slayer', text);
    const lines = text.split('\n');
    for (let line = 0; line < lines.length; line++) {
      for (let character = 0; character <= lines[line]!.length; character++) {
        await ls.c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
        await complete(uri, { line, character });
      }
    }
    const whole = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
    assert.ok(Array.isArray(await ls.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: whole })));
    assert.ok((await ls.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data.length > 0);
    assert.ok((await ls.c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }))!.length > 0);
    assert.ok(Array.isArray(await ls.c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } })));
    assert.ok(Array.isArray(await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: whole, context: { diagnostics: [] } })));
    assert.ok(Array.isArray(await ls.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })));
    assert.deepEqual(await ls.c.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } }).then((l) => l!.length), 3);
  });
});
