// "Suggest expansion from importance": rewrites of the `expand` line offered when a measurement of
// the plan's model is known (language-server/importanceIndex.ts). The plan's own budget (its number
// of new blocks, else a quarter of the depth) and deletions are kept; the paper's placement and the
// importance-ranked one are offered, each titled with what it does, blocks 0-based (1-based).
import { CodeActionKind, type CodeAction, type CodeActionParams } from 'vscode-languageserver';
import {
  blocksLabel, deletionWindow, findStatement, profileFromImportance, suggestExpansion, type PlanAnalysis, type Suggestion, type SuggestStrategy,
} from '@slayer/core';
import type { ImportanceFile } from '@slayer/protocol/runnerEvents';
import { rangesOverlap, toRange } from './ranges';

export const SUGGEST_KIND = `${CodeActionKind.RefactorRewrite}.slayer.suggest`;
const OFFERED: readonly SuggestStrategy[] = ['slayer', 'importance'];

const wanted = (only: string[] | undefined): boolean => !only || only.some((k) => SUGGEST_KIND === k || SUGGEST_KIND.startsWith(`${k}.`));

export function suggestTitle(s: Suggestion): string {
  const del = s.deleted.length ? `, deletes ${blocksLabel(s.deleted)} (0-based, paper 1-based)` : '';
  return `Suggest expansion from importance (${s.strategy}): ${s.expand} — ${s.depth} blocks${del}`;
}

/** Rewrites of the expression for each offered strategy that differs from what the plan has. */
export function suggestActions(a: PlanAnalysis, p: CodeActionParams, uri: string, measurement: () => { file: ImportanceFile } | null): CodeAction[] {
  const expansion = a.ast.expansion;
  const shape = a.model?.shape;
  if (!expansion || !shape || !wanted(p.context.only)) return [];
  if (!rangesOverlap(toRange(a.lines, expansion.statement.span), p.range)) return [];
  const measured = measurement(); // looked up only on the expand line
  if (!measured || measured.file.num_layers !== shape.numLayers) return [];
  const L = shape.numLayers;
  const budget = a.layout?.newCount || Math.max(1, Math.round(L / 4));
  const deleted = Math.min(a.layout?.deleted.length ?? 0, deletionWindow(L));
  const init = findStatement(a.ast, 'init') ? a.init : undefined;
  const out: CodeAction[] = [];
  for (const strategy of OFFERED) {
    let s: Suggestion;
    try {
      s = suggestExpansion({ shape, profile: profileFromImportance(measured.file), budget: { kind: 'blocks', value: budget }, deletion: { kind: 'count', count: deleted }, strategy, train: a.train, init });
    } catch {
      continue; // a request this plan cannot meet is simply not offered
    }
    if (s.expand === a.canonicalExpansion || out.some((x) => x.edit?.changes?.[uri]?.[0]?.newText === s.expand)) continue;
    out.push({
      title: suggestTitle(s),
      kind: SUGGEST_KIND,
      edit: { changes: { [uri]: [{ range: toRange(a.lines, expansion.expr.span), newText: s.expand }] } },
    });
  }
  return out;
}
