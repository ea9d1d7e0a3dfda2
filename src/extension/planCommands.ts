// Plan commands backed by the plan core: `slayer.compilePlan` (the LayerMap of a plan document,
// used by Run Expansion and the views) and `slayer.explainPlan` (the CLI's explain table in an
// output channel). The document's unsaved text is compiled, exactly what the user sees.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { analyzePlan, explainText, type PlanAnalysis } from '../core';
import { readIfFile } from '../modelfiles/planFile';
import type { LayerMap } from '../protocol/layerMap';
import type { CommandHandlers } from './commands';

export function analyzeDocument(doc: vscode.TextDocument): PlanAnalysis {
  const file = doc.uri.scheme === 'file' ? doc.uri.fsPath : undefined;
  return analyzePlan(doc.getText(), {
    fileName: file,
    baseDir: file ? dirname(file) : undefined,
    homeDir: homedir(),
    readFile: readIfFile,
  });
}

async function planDocument(uri?: vscode.Uri): Promise<vscode.TextDocument> {
  const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== 'slayer') throw new Error('open a plan (.slayer) first');
  return doc;
}

export function planCommands(): Pick<CommandHandlers, 'compilePlan' | 'explainPlan'> {
  let explainChannel: vscode.OutputChannel | undefined;
  return {
    compilePlan: async (uri?: vscode.Uri): Promise<LayerMap> => {
      const doc = await planDocument(uri);
      const a = analyzeDocument(doc);
      if (!a.layerMap) {
        const first = a.diagnostics.find((d) => d.severity === 'error');
        const where = first ? `${doc.fileName}:${a.lines.positionAt(first.span.start).line + 1}: ` : '';
        throw new Error(`the plan does not compile: ${where}${first?.message ?? 'no model shape or expansion'}`);
      }
      return a.layerMap;
    },
    explainPlan: async (uri?: vscode.Uri) => {
      const doc = await planDocument(uri);
      explainChannel ??= vscode.window.createOutputChannel('SLayer: Explain');
      explainChannel.clear();
      explainChannel.append(explainText(vscode.workspace.asRelativePath(doc.uri), analyzeDocument(doc)));
      explainChannel.show(true);
    },
  };
}
