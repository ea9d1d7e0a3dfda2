// SL052: the plan's `run on HOST` names a host that neither `slayer.hosts` (the editor's settings)
// nor the SSH config knows, so a run would have nowhere to go. The quick fix runs the extension's
// `slayer.addHost` command with the name; `localhost` is always known.
import { CodeActionKind, DiagnosticSeverity, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import { findStatement, type PlanAnalysis, type Word } from '@slayer/core';
import { FIX_COMMANDS } from '@slayer/protocol/languageServer';
import { rangesOverlap, toRange } from './service/ranges';

export const UNKNOWN_HOST_CODE = 'SL052';

/** The host word of `run on HOST …`, when the plan has one. */
export function runHostWord(a: PlanAnalysis): Word | undefined {
  const run = findStatement(a.ast, 'run');
  if (!run) return undefined;
  const i = run.args.findIndex((w) => w.text === 'on');
  return i >= 0 ? run.args[i + 1] : undefined;
}

export function unknownHostDiagnostics(a: PlanAnalysis, known: ReadonlySet<string>, docsUrl: string): Diagnostic[] {
  const host = a.run?.host;
  const word = runHostWord(a);
  if (!host || !word || word.text !== host || host === 'localhost' || known.has(host)) return [];
  return [{
    range: toRange(a.lines, word.span),
    severity: DiagnosticSeverity.Warning,
    code: UNKNOWN_HOST_CODE,
    codeDescription: { href: `${docsUrl}#${UNKNOWN_HOST_CODE.toLowerCase()}` },
    source: 'slayer',
    message: `"${host}" is neither in the slayer.hosts setting nor a Host in the SSH config, so a run cannot reach it; add it to slayer.hosts or to ~/.ssh/config`,
    data: { host },
  }];
}

/** "Add host …" for each unknown-host diagnostic (as the server computes them now) in the range. */
export function addHostActions(diagnostics: readonly Diagnostic[], range: Range): CodeAction[] {
  return diagnostics.filter((d) => d.code === UNKNOWN_HOST_CODE && rangesOverlap(d.range, range)).flatMap((d) => {
    const host = (d.data as { host?: unknown } | undefined)?.host;
    if (typeof host !== 'string') return [];
    return [{
      title: `Add "${host}" to slayer.hosts…`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      command: { title: `Add "${host}" to slayer.hosts…`, command: FIX_COMMANDS.addHost, arguments: [host] },
    }];
  });
}
