// Code lenses on the expansion line. Each calls a command the extension registers (see
// LENS_COMMANDS); the document URI is the only argument.
import type { CodeLens } from 'vscode-languageserver';
import type { PlanAnalysis } from '@slayer/core';
import { LENS_COMMANDS } from '@slayer/protocol/languageServer';
import { toRange } from './ranges';

export function codeLenses(a: PlanAnalysis, uri: string): CodeLens[] {
  const exp = a.ast.expansion;
  if (!exp) return [];
  const range = toRange(a.lines, exp.statement.span);
  return [
    { range, command: { title: '$(play) Run Expansion', command: LENS_COMMANDS.runExpansion, arguments: [uri] } },
    { range, command: { title: '$(graph) Layer Importance', command: LENS_COMMANDS.showImportance, arguments: [uri] } },
    { range, command: { title: '$(layers) Preview Layer Map', command: LENS_COMMANDS.showLayerMap, arguments: [uri] } },
  ];
}
