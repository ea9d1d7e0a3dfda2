// Code actions (language-server/service/codeActions.ts) over real JSON-RPC against the spawned server:
// named quick fixes and "fix all" applied to the text. Every quick fix leaves the plan cleaner: for a
// corpus of plans that trigger each diagnostic that has a fix, every code action offered on every
// diagnostic is applied to the text, the document is re-checked, and the diagnostic the action
// names is gone while no diagnostic appears that was not there before. The paper's own plans
// (Table 3 of the SLayer paper) carry no hint; `run on` an unknown host offers `slayer.addHost`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodeActionRequest, DidChangeConfigurationNotification, DocumentDiagnosticRequest, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol';
import { useWorkspaceServer } from '../fixture';
import { applyEdits, LspClient, PUSH_CAPABILITIES } from '../lspClient';

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

/** Plans that trigger each fixable diagnostic, some in several shapes (final block, trailing -n, mid -n). */
const CORPUS: Record<string, string> = {
  'SL002 key': `modle meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n`,
  'SL002 stage key': `${MODEL}expand (4+1)x8\nstage cpt\n  data x\n  tokns 1B\n`,
  'SL002 run option': `${MODEL}expand (4+1)x8\nrun on localhost gpu 2\n`,
  // A typo fix makes the intended value count, with what it implies: `init average` on (4+1)x8
  // would rightly warn that the last new block has no next block (SL026), so this plan avoids that.
  'SL004 init': `${MODEL}expand (2+1)x8 | 16\ninit avrage\n`,
  'SL004 zero': `${MODEL}expand (4+1)x8\nzero o_prj\n`,
  'SL004 final': `${MODEL}expand (2+1)x8 | 13 | 1◇\nfinal averag\n`,
  'SL004 train': `${MODEL}expand (2+1)x8 | 13 | 1◇\ntrain new, fnal, head\n`,
  'SL005 indent': `${MODEL}expand (4+1)x8\nstage cpt\ndata x\n`,
  'SL011 near id': `model meta-llama/Llama-2-7b\nexpand (4+1)x8\n`,
  'SL022 final shape, train final': `${MODEL}expand (2+1)x8 | 16 | 1◇\ntrain new, final, head\n`,
  'SL022 final shape, default train': `${MODEL}expand (2+1)x8 | 17 | 1◇\n`,
  'SL022 final shape, no final trained': `${MODEL}expand (2+1)x8 | 16 | 1◇\ntrain new, head\n`,
  'SL022 trailing -3': `${MODEL}expand (2+1)x8 | 13 | 1◇ | -3\ntrain new, final, head\n`,
  'SL022 no final shape': `${MODEL}expand (2+1)x8 | 17\ntrain new, final\n`,
  'SL022 plain': `${MODEL}expand (4+1)x7 | 5\ntrain new, head\n`,
  'SL023 no final block': `${MODEL}expand (4+1)x7 | 2\ntrain new, head\n`,
  'SL024 implicit (the issue\'s plan)': `${MODEL}expand (2+1)x8 | 12 | 1◇\ntrain new, final, head\n`,
  'SL024 explicit -3': `${MODEL}expand (2+1)x8 | 12 | 1◇ | -3\ntrain new, final, head\n`,
  'SL024 mid and trailing': `${MODEL}expand (2+1)x8 | -1 | 11 | 1◇ | -2\ntrain new, final, head\n`,
  'SL024 no final block': `${MODEL}expand (4+1)x7 | 1\ntrain new, head\n`,
  'SL025 warning': `${MODEL}expand (2+1)x8 | 6 | 1◇\ntrain new, final, head\n`,
  'SL030 train final': `${MODEL}expand (4+1)x8\ntrain new, final, head\n`,
  'SL031 notation': `${MODEL}expand (2+1)×8  13 | 1<> | -2\n`,
};

/** Table 3 of the paper, in the canonical notation, on Llama-2-7B (32 blocks). */
const PAPER_PLANS = [
  '(4+1)x8', '(2+1)x3 | (4+1)x3 | (7+1)x2', '(2+1)x3 | (7+1)x2 | (4+1)x3', '(4+1)x3 | (2+1)x3 | (7+1)x2',
  '(4+1)x3 | (7+1)x2 | (2+1)x3', '(7+1)x2 | (4+1)x3 | (2+1)x3', '(7+1)x2 | (2+1)x3 | (4+1)x3', '16 | (2+1)x8',
  '(2+1)x8 | 16', '(2+1)x8 | 16◇', '(2+1)x6 | 17 | 1◇', '(2+1)x8 | 11 | 1◇', '(2+1)x8 | 12 | 1◇', '(2+1)x8 | 13 | 1◇',
];

const ls = useWorkspaceServer({ 'slayer.hosts': { 'lab-box': { python: 'python3' } } }, ['slayer.hosts']);
const { show } = ls;

async function actionsFor(uri: string, d: Diagnostic): Promise<CodeAction[]> {
  const r = await ls.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
  return (r ?? []).filter((x): x is CodeAction => 'kind' in x);
}

const count = (ds: Diagnostic[], code: string): number => ds.filter((d) => d.code === code).length;
const codes = (ds: Diagnostic[]): string[] => ds.map((d) => String(d.code)).sort();

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

describe('every offered quick fix leaves the plan clean', () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    test(name, async () => {
      const file = `qf-${name.replace(/[^a-z0-9]+/gi, '-')}.slayer`;
      const { uri, diagnostics: before } = await show(file, text);
      const target = name.slice(0, 5);
      assert.ok(before.some((d) => d.code === target), `${target} in ${JSON.stringify(codes(before))}`);
      let applied = 0;
      for (const d of before) {
        for (const action of await actionsFor(uri, d)) {
          if (!action.edit) continue;
          const fixed = applyEdits(text, action.edit.changes![uri]!);
          const { diagnostics: afterFix } = await show(file, fixed);
          const where = `"${action.title}" on ${JSON.stringify(text)} → ${JSON.stringify(fixed)}: ${JSON.stringify(codes(before))} → ${JSON.stringify(codes(afterFix))}`;
          for (const code of new Set(afterFix.map((x) => String(x.code)))) {
            assert.ok(count(afterFix, code) <= count(before, code), `no new diagnostic: ${where}`);
          }
          for (const named of action.diagnostics ?? []) {
            assert.ok(count(afterFix, String(named.code)) < count(before, String(named.code)), `${String(named.code)} goes away: ${where}`);
          }
          if (action.kind === 'quickfix') assert.ok(action.diagnostics?.length, `a quick fix names its diagnostic: ${where}`);
          applied++;
          await show(file, text);
        }
      }
      if (target !== 'SL025') assert.ok(applied > 0, `some fix was offered for ${name}`);
    });
  }

  test('the issue\'s plan: SL024 on "| 12 | 1◇" offers "Keep 13 blocks instead of 12", not a fix that leaves it', async () => {
    const text = `${MODEL}expand (2+1)x8 | 12 | 1◇\ntrain new, final, head\n`;
    const { uri, diagnostics } = await show('issue-sl024.slayer', text);
    assert.deepEqual(codes(diagnostics), ['SL024']);
    const actions = await actionsFor(uri, diagnostics[0]!);
    const quick = actions.filter((a) => a.kind === 'quickfix');
    assert.deepEqual(quick.map((a) => a.title), ['Keep 13 blocks instead of 12 so only 2 blocks are deleted']);
    // Making the deletion explicit is still on offer, as a rewrite that claims to fix nothing.
    const rewrite = actions.find((a) => a.kind === 'refactor.rewrite')!;
    assert.equal(rewrite.title, 'Make the deletion explicit (| -3)');
    assert.equal(rewrite.diagnostics, undefined);
  });

  test('SL025 (more than a quarter deleted) is a warning', async () => {
    const { diagnostics } = await show('sl025.slayer', CORPUS['SL025 warning']!);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.severity]), [['SL025', 2]]);
  });
});

describe('the paper\'s own plans', () => {
  for (const expand of PAPER_PLANS) {
    test(`${expand}: no hint; only deleting 3 or 4 warns`, async () => {
      const { diagnostics } = await show('paper-table3.slayer', `${MODEL}expand ${expand}\ntrain new, final, head\n`.replace(/train new, final, head/, expand.includes('1◇') ? 'train new, final, head' : 'train new, head'));
      const deletes = /\| (11|12) \| 1◇$/.test(expand);
      assert.deepEqual(codes(diagnostics), deletes ? ['SL024'] : []);
    });
  }
});

describe('run on an unknown host', () => {
  test('a warning on the host word with a quick fix running slayer.addHost with the name; known hosts are quiet', async () => {
    const text = `${MODEL}expand (4+1)x8\nrun on a100-bx gpus 8\n`;
    const { uri, diagnostics } = await show('host.slayer', text);
    const d = diagnostics.find((x) => x.code === 'SL052')!;
    assert.ok(d, JSON.stringify(diagnostics));
    assert.equal(d.severity, 2);
    assert.deepEqual(d.range, { start: { line: 2, character: 7 }, end: { line: 2, character: 14 } });
    assert.match(String(d.message), /"a100-bx" is neither in the slayer\.hosts setting nor a Host in the SSH config/);
    assert.match(String(d.codeDescription!.href), /#sl052$/);
    const actions = await actionsFor(uri, d);
    assert.deepEqual(actions.map((a) => [a.title, a.kind, a.command?.command, a.command?.arguments]), [
      ['Add "a100-bx" to slayer.hosts…', 'quickfix', 'slayer.addHost', ['a100-bx']],
    ]);
    // From ~/.ssh/config (the fixture's, with Include), from slayer.hosts, and localhost: no warning.
    for (const host of ['a100-box', 'cluster-a', 'login-node', 'lab-box', 'localhost']) {
      const r = await show('host.slayer', `${MODEL}expand (4+1)x8\nrun on ${host} gpus 8\n`);
      assert.deepEqual(codes(r.diagnostics), [], host);
    }
  });
});

describe('unknown host in a pulling client (VS Code pulls)', () => {
  test('a host added to slayer.hosts clears the warning: the settings change gives a new report, not "unchanged"', async () => {
    const caps = { ...PUSH_CAPABILITIES, workspace: { ...PUSH_CAPABILITIES.workspace, diagnostics: { refreshSupport: true } }, textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false } } };
    const p = await LspClient.start({ env: { HOME: ls.fx.home }, capabilities: caps, settings: { 'slayer.hosts': {} } });
    try {
      let refreshes = 0;
      p.conn.onRequest('workspace/diagnostic/refresh', () => {
        refreshes++;
        return null;
      });
      const deadline = Date.now() + 5000;
      while (!p.configurationRequests.includes('slayer.hosts') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const uri = 'untitled:pull-host.slayer';
      await p.open(uri, `${MODEL}expand (4+1)x8\nrun on new-box gpus 8\n`);
      const pull = (previousResultId?: string) => p.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId });
      let r1 = await pull();
      for (let i = 0; i < 50 && !(r1.kind === 'full' && r1.items.length); i++) {
        await new Promise((r) => setTimeout(r, 50));
        r1 = await pull();
      }
      assert.deepEqual(r1.kind === 'full' ? codes(r1.items) : [], ['SL052']);
      // The user adds the host (what slayer.addHost does); VS Code notifies the server.
      p.settings['slayer.hosts'] = { 'new-box': { python: 'python3' } };
      const before = refreshes;
      await p.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      for (let i = 0; i < 100 && refreshes === before; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(refreshes > before, 'the client is asked to pull again');
      const r2 = await pull(r1.resultId);
      assert.equal(r2.kind, 'full', 'same document version, new settings: a new report');
      assert.deepEqual(r2.kind === 'full' ? r2.items : null, []);
    } finally {
      await p.stop();
    }
  });
});
