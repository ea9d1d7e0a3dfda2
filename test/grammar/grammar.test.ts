// The TextMate grammar, tokenized with the same engine VS Code uses (vscode-textmate + oniguruma).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = join(__dirname, '..', '..');
let grammar: textmate.IGrammar;

before(async () => {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === 'source.slayer'
      ? textmate.parseRawGrammar(readFileSync(join(root, 'syntaxes', 'slayer.tmLanguage.json'), 'utf8'), 'slayer.tmLanguage.json')
      : null),
  });
  const g = await registry.loadGrammar('source.slayer');
  assert.ok(g);
  grammar = g;
});

/** [text, innermost scope] for every token of every line. */
function tokenize(text: string): [string, string][][] {
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]!] as [string, string]);
  });
}
const scopeOf = (lines: [string, string][][], line: number, text: string): string | undefined => lines[line]!.find(([t]) => t === text)?.[1];

test('the expansion notation: groups, repeat, separators, ◇ and its ASCII forms, deletions', () => {
  const l = tokenize('expand (2+1)x8 | 13 | 1◇ | -2   # SLayer-8B\nexpand (2+1)×3 (4+1)*3 16<> 1~ −1');
  assert.equal(scopeOf(l, 0, 'expand'), 'keyword.other.key.slayer');
  assert.equal(scopeOf(l, 0, '('), 'punctuation.section.group.begin.slayer');
  assert.equal(scopeOf(l, 0, '2'), 'constant.numeric.integer.kept.slayer');
  assert.equal(scopeOf(l, 0, '+'), 'keyword.operator.arithmetic.slayer');
  assert.equal(scopeOf(l, 0, 'x'), 'keyword.operator.repeat.slayer');
  assert.equal(scopeOf(l, 0, '8'), 'constant.numeric.integer.repeat.slayer');
  assert.equal(scopeOf(l, 0, '|'), 'keyword.operator.separator.slayer');
  assert.equal(scopeOf(l, 0, '◇'), 'storage.modifier.average.slayer');
  assert.equal(scopeOf(l, 0, '-'), 'keyword.operator.delete.slayer');
  assert.equal(scopeOf(l, 0, '#'), 'punctuation.definition.comment.slayer');
  assert.equal(scopeOf(l, 0, ' SLayer-8B'), 'comment.line.number-sign.slayer');
  assert.equal(scopeOf(l, 1, '×'), 'keyword.operator.repeat.slayer');
  assert.equal(scopeOf(l, 1, '*'), 'keyword.operator.repeat.slayer');
  assert.equal(scopeOf(l, 1, '<>'), 'storage.modifier.average.slayer');
  assert.equal(scopeOf(l, 1, '~'), 'storage.modifier.average.slayer');
  assert.equal(scopeOf(l, 1, '−'), 'keyword.operator.delete.slayer');
});

test('a stray character in the notation is marked invalid', () => {
  const l = tokenize('expand (2+1)x8 | 1q3');
  assert.equal(scopeOf(l, 0, 'q'), 'invalid.illegal.expansion.slayer');
});

test('a sweep section: its name, variant names, expansions and overrides; it ends at the next top-level line', () => {
  const l = tokenize('sweep table3\n  llama-pro  (4+1)x8  train new   # LLaMA Pro\n  last4      none  train last 4\nrun on localhost');
  assert.equal(scopeOf(l, 0, 'sweep'), 'keyword.control.sweep.slayer');
  assert.equal(scopeOf(l, 0, 'table3'), 'entity.name.section.sweep.slayer');
  assert.equal(scopeOf(l, 1, 'llama-pro'), 'entity.name.function.variant.slayer');
  assert.equal(scopeOf(l, 1, '('), 'punctuation.section.group.begin.slayer');
  assert.equal(scopeOf(l, 1, 'x'), 'keyword.operator.repeat.slayer');
  assert.equal(scopeOf(l, 1, 'train'), 'keyword.other.key.slayer');
  assert.equal(scopeOf(l, 1, 'new'), 'constant.language.slayer');
  assert.equal(scopeOf(l, 1, ' LLaMA Pro'), 'comment.line.number-sign.slayer');
  assert.equal(scopeOf(l, 2, 'none'), 'constant.language.slayer');
  assert.equal(scopeOf(l, 2, 'last'), 'constant.language.slayer');
  assert.equal(scopeOf(l, 2, '4'), 'constant.numeric.slayer');
  assert.equal(scopeOf(l, 3, 'run'), 'keyword.other.key.slayer');
});

test('model ids, local paths and host:/path', () => {
  const l = tokenize('model meta-llama/Llama-2-7b-hf\nmodel gpu-box:/data/llama2');
  assert.equal(scopeOf(l, 0, 'meta-llama/Llama-2-7b-hf'), 'string.unquoted.model.slayer');
  assert.equal(scopeOf(l, 1, 'gpu-box'), 'entity.name.host.slayer');
  assert.equal(scopeOf(l, 1, '/data/llama2'), 'string.unquoted.path.slayer');
});

test("the spec's stage block: keys, several settings on a line, units, enums, data weights", () => {
  const l = tokenize(readFileSync(join(root, 'examples', 'slayer-8b.slayer'), 'utf8'));
  const line = (prefix: string): number => l.findIndex((toks) => toks.map(([t]) => t).join('').trimStart().startsWith(prefix));
  const stage = line('stage cpt');
  assert.equal(scopeOf(l, stage, 'stage'), 'keyword.control.stage.slayer');
  assert.equal(scopeOf(l, stage, 'cpt'), 'entity.name.section.stage.slayer');
  const prec = line('precision');
  assert.equal(scopeOf(l, prec, 'precision'), 'support.type.property-name.slayer');
  assert.equal(scopeOf(l, prec, 'bf16'), 'constant.language.slayer');
  assert.equal(scopeOf(l, prec, 'weight-decay'), 'support.type.property-name.slayer');
  assert.equal(scopeOf(l, prec, '0.1'), 'constant.numeric.slayer');
  assert.equal(scopeOf(l, line('tokens'), '30B'), 'constant.numeric.slayer');
  const lr = line('lr       2e-4');
  assert.equal(scopeOf(l, lr, '2e-4'), 'constant.numeric.slayer');
  assert.equal(scopeOf(l, lr, 'cosine'), 'constant.language.slayer');
  assert.equal(scopeOf(l, lr, '2%'), 'constant.numeric.slayer');
  const data = line('data     proof-pile-2');
  assert.equal(scopeOf(l, data, ':'), 'punctuation.separator.weight.slayer');
  // A dataset name that contains a number is not a number.
  assert.equal(l[data]!.find(([t]) => t.includes('proof-pile-2'))?.[1], 'source.slayer');
  assert.equal(l[data]![l[data]!.length - 1]![1], 'constant.numeric.slayer'); // the last weight
  const run = line('run on');
  assert.equal(scopeOf(l, run, 'a100-box'), 'entity.name.host.slayer');
  assert.equal(scopeOf(l, run, 'gpus'), 'support.type.property-name.slayer');
  assert.equal(scopeOf(l, run, '8'), 'constant.numeric.slayer');
});
