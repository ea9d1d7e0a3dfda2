// SLayer: Suggest Expansion… — the quick picks (budget, deletions, strategy, each strategy showing
// the plan it would write) and the edit that applies a previewed suggestion to the plan. The
// suggestion itself is the plan core's (src/core/suggest.ts); the preview is the importance view's.
import * as vscode from 'vscode';
import {
  blocksLabel, DEFAULT_AUTO_THRESHOLD, parseBudget, parseDeletion, STRATEGY_TEXT, SUGGEST_STRATEGIES, suggestExpansion,
  type ImportanceProfile, type PlanAnalysis, type SuggestBudget, type SuggestDeletion, type Suggestion,
} from '../../core';
import { analyzeDocument } from '../planCommands';

interface Choice<T> extends vscode.QuickPickItem { value?: T; ask?: () => Promise<T | undefined> }

async function choose<T>(title: string, step: number, items: Choice<T>[]): Promise<T | undefined> {
  const picked = await vscode.window.showQuickPick(items, { title: `Suggest Expansion (${step}/3): ${title}`, ignoreFocusOut: true, matchOnDescription: true, matchOnDetail: true });
  if (!picked) return undefined;
  if (!picked.ask && picked.value === undefined) {
    void vscode.window.showErrorMessage(`SLayer: ${picked.detail ?? picked.label}`);
    return undefined;
  }
  return picked.ask ? picked.ask() : picked.value;
}

async function askText<T>(prompt: string, placeHolder: string, parse: (v: string) => T): Promise<T | undefined> {
  const text = await vscode.window.showInputBox({
    prompt, placeHolder, ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        parse(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  return text === undefined ? undefined : parse(text);
}

function budgetItems(a: PlanAnalysis, L: number): Choice<SuggestBudget>[] {
  const counts = new Map<number, string>();
  if (a.layout?.newCount) counts.set(a.layout.newCount, 'as many as the plan has now');
  const add = (n: number, why: string): void => { if (n >= 1 && !counts.has(n)) counts.set(n, why); };
  add(Math.round(L / 4), 'the paper\'s share: 8 new blocks on 32');
  add(Math.round(L / 8), 'half the paper\'s share');
  add(Math.round(L / 2), 'SOLAR\'s share: 16 on 32');
  return [
    ...[...counts].map(([n, why]) => ({ label: `$(add) ${n} new block${n === 1 ? '' : 's'}`, description: why, value: { kind: 'blocks', value: n } as SuggestBudget })),
    { label: '$(symbol-number) Trainable parameters…', description: 'e.g. 1.8B: as many new blocks as that pays for', ask: () => askText('Trainable parameters (K, M, B suffixes)', '1.8B', (v) => parseBudget(`${v.trim()}${/params?$/i.test(v.trim()) ? '' : 'params'}`)) },
    { label: '$(arrow-both) Target depth…', description: `the resulting number of blocks (now ${L})`, ask: () => askText('Resulting depth (blocks)', String(L + Math.round(L / 4) - 2), (v) => parseBudget(`${v.trim()}depth`)) },
    { label: '$(edit) Another number of new blocks…', ask: () => askText('New blocks', '8', (v) => parseBudget(`${v.trim()}blocks`)) },
  ];
}

function deletionItems(a: PlanAnalysis): Choice<SuggestDeletion>[] {
  const D = a.layout?.deleted.length ?? 0;
  const items: Choice<SuggestDeletion>[] = [{ label: '$(circle-slash) Delete none', value: { kind: 'count', count: 0 } }];
  if (D && D !== 2) items.push({ label: `$(trash) Delete ${D}`, description: 'as many as the plan deletes now', value: { kind: 'count', count: D } });
  items.push(
    { label: '$(trash) Delete 2', description: 'the paper: the least important of the deepest blocks (Table 3: quality falls beyond 2)', value: { kind: 'count', count: 2 } },
    { label: '$(graph) Delete by importance', description: `deep blocks within ${DEFAULT_AUTO_THRESHOLD * 100}% of the lowest score`, value: { kind: 'auto', threshold: DEFAULT_AUTO_THRESHOLD } },
    { label: '$(edit) Delete by importance, threshold…', ask: () => askText('Threshold: a fraction of the importance range (0–1)', '0.1', (v) => parseDeletion(`auto:${v.trim()}`)) },
  );
  return items;
}

/** Budget, deletions, then a strategy whose items show the plan each would write. */
export async function pickSuggestion(a: PlanAnalysis, profile: ImportanceProfile): Promise<Suggestion | undefined> {
  const shape = a.model?.shape;
  if (!shape) throw new Error('the plan\'s model has no known shape yet');
  const budget = await choose('how many new blocks?', 1, budgetItems(a, shape.numLayers));
  if (!budget) return undefined;
  const deletion = await choose('which blocks to delete?', 2, deletionItems(a));
  if (!deletion) return undefined;
  const items: Choice<Suggestion>[] = SUGGEST_STRATEGIES.map((strategy) => {
    try {
      const s = suggestExpansion({ shape, profile, budget, deletion, strategy, train: a.train });
      return { label: strategy, description: STRATEGY_TEXT[strategy], detail: `${s.expand}  ·  ${s.depth} blocks  ·  deletes ${blocksLabel(s.deleted)}  ·  trainable ${s.params.trainable.toLocaleString('en-US')}`, value: s };
    } catch (e) {
      return { label: `$(error) ${strategy}`, description: STRATEGY_TEXT[strategy], detail: (e as Error).message };
    }
  });
  const s = await choose(`where do ${budget.kind === 'blocks' ? budget.value : 'the'} new blocks go? (blocks 0-based, paper 1-based)`, 3, items);
  return s;
}

/** Writes `expand` into the plan: over the current expression, or as a new line after `model`. */
export async function applyExpansion(doc: vscode.TextDocument, expand: string): Promise<{ ok: boolean; before: string | null }> {
  const a = analyzeDocument(doc);
  const expansion = a.ast.expansion;
  const edit = new vscode.WorkspaceEdit();
  if (expansion) {
    const span = expansion.expr.span.end > expansion.expr.span.start ? expansion.expr.span : { start: expansion.statement.key.span.end, end: expansion.statement.key.span.end };
    const text = expansion.expr.span.end > expansion.expr.span.start ? expand : ` ${expand}`;
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end)), text);
  } else {
    const model = a.ast.statements.find((s) => s.key.text === 'model');
    const line = model ? model.line + 1 : 0;
    edit.insert(doc.uri, new vscode.Position(line, 0), `expand ${expand}\n`);
  }
  const before = expansion ? doc.getText().slice(expansion.expr.span.start, expansion.expr.span.end) : null;
  return { ok: await vscode.workspace.applyEdit(edit), before };
}
