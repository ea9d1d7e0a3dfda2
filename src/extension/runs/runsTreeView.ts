// The "Runs" view: hosts, then their runs by name (in the run's colour) with state, start time,
// elapsed time and last loss; the tooltip carries the plan, the directory and, for a failed run,
// the reason (the doctor's report for a refusal).
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol/commands';
import { colorOf, RUN_COLORS, startTimeText } from '../../remote/runIdentity';
import { isFinal, type RunState } from '../../remote/runStatus';
import { runDisplayName, type RunRecord } from '../../remote/runStore';
import { formatDuration } from '../../shared/format';
import { failedVariants, hostEntries, sweepSummary, type SweepGroup } from '../../remote/sweepGroups';
import { listSweeps } from '../../remote/sweepStore';
import { configuredHosts } from './hostConfiguration';
import type { RunRegistry } from './runRegistry';

type Node = { kind: 'host'; host: string } | { kind: 'run'; run: RunRecord } | { kind: 'sweep'; group: SweepGroup };

const ICONS: Record<RunState, [string, string | undefined]> = {
  uploading: ['cloud-upload', undefined],
  queued: ['clock', undefined],
  running: ['sync~spin', 'charts.blue'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', undefined],
  lost: ['question', 'testing.iconFailed'],
};

export { formatDuration };

/** The theme colour id contributed for each palette entry (package.json `contributes.colors`). */
export const runColorId = (color: number | null | undefined): string => `slayer.run.${colorOf(color).name}`;
export const RUN_COLOR_IDS = RUN_COLORS.map((_, i) => runColorId(i));

/** Colours a run's label in the Runs view: tree items carry `slayer-run:/ID` as their resource. */
export class RunColorDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly sub: vscode.Disposable;
  constructor(private readonly registry: RunRegistry) {
    this.sub = registry.onDidChangeRuns(() => this.changed.fire(undefined));
  }
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'slayer-run') return undefined;
    const r = this.registry.get(uri.path.replace(/^\//, ''));
    return r ? { color: new vscode.ThemeColor(runColorId(r.color)), tooltip: `${colorOf(r.color).name}` } : undefined;
  }
  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

export function elapsedOf(r: RunRecord, now = Date.now()): number {
  const start = r.startedAt ?? r.createdAt;
  return (r.finishedAt ?? now) - start;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly registry: RunRegistry) {
    this.subscription = registry.onDidChangeRuns(() => this.changed.fire(undefined));
    // Elapsed times move while runs are active.
    this.ticker = setInterval(() => {
      if (registry.activeRun()) this.changed.fire(undefined);
    }, 5000);
  }

  getChildren(node?: Node): Node[] {
    const runs = this.registry.list();
    // Configured hosts show even before their first run, so the view lists every target.
    if (!node) return [...new Set([...configuredHosts(), ...runs.map((r) => r.host)])].sort().map((host) => ({ kind: 'host', host }));
    // A sweep's runs sit under one parent node (src/remote/sweepGroups.ts).
    if (node.kind === 'host') return hostEntries(runs, node.host, listSweeps(this.registry.service.store.dir)).map((e) => (e.kind === 'run' ? { kind: 'run', run: e.run } : { kind: 'sweep', group: e.group }));
    if (node.kind === 'sweep') return node.group.runs.map((run) => ({ kind: 'run', run }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'host') {
      const count = this.registry.list().filter((r) => r.host === node.host).length;
      const item = new vscode.TreeItem(node.host, count ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
      // A leaf that later gains children keeps the tree's memory of it as a leaf (shown collapsed);
      // a new id when the first run arrives makes it a new node, which opens expanded.
      item.id = `host:${node.host}:${count ? 'runs' : 'empty'}`;
      item.description = count ? `${count} run${count === 1 ? '' : 's'}` : 'no runs';
      item.iconPath = new vscode.ThemeIcon(node.host === 'localhost' ? 'vm' : 'remote');
      item.contextValue = 'host';
      return item;
    }
    if (node.kind === 'sweep') return sweepItem(node.group);
    const r = node.run;
    const item = new vscode.TreeItem(runDisplayName(r), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = vscode.Uri.from({ scheme: 'slayer-run', path: `/${r.id}` });
    const loss = r.lastLoss === null ? '' : ` · loss ${r.lastLoss.toFixed(4)}`;
    item.description = `${r.state} · ${startTimeText(r.createdAt)} · ${formatDuration(elapsedOf(r))}${loss}`;
    const [icon, color] = ICONS[r.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = isFinal(r.state) ? (r.state === 'succeeded' ? 'run-final' : 'run-final-resumable') : 'run-active';
    item.id = r.id;
    const tip = new vscode.MarkdownString([
      `**${escapeMd(runDisplayName(r))}** · ${escapeMd(r.label)}`, `run ${r.id}, started ${startTimeText(r.createdAt)}`,
      `host: ${r.host}${r.jobId ? ` · Slurm job ${r.jobId}` : ''}`, `directory: \`${r.remoteDir}\``,
      `state: ${r.state}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`, r.lastStep !== null ? `step ${r.lastStep}` : '',
      r.phases?.length ? `phases: ${r.phases.join(', ')}` : '',
    ].filter(Boolean).join('  \n'));
    // The reason a run failed (a refusal carries the doctor's whole report) as it was printed.
    if (r.message) tip.appendCodeblock(r.message, 'text');
    item.tooltip = tip;
    item.command = { command: COMMANDS.openRemoteLog, title: 'Open Log', arguments: [r.id] };
    return item;
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** A sweep: its name, how its variants stand, and (in the tooltip) each variant and why any failed. */
function sweepItem(g: SweepGroup): vscode.TreeItem {
  const item = new vscode.TreeItem(`sweep ${g.name}`, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `sweep:${g.id}`;
  item.description = `${sweepSummary(g)} · ${startTimeText(g.createdAt)}`;
  const failed = failedVariants(g);
  const active = g.runs.some((r) => !isFinal(r.state)) || g.waiting.some((w) => !w.error);
  item.iconPath = new vscode.ThemeIcon(active ? 'beaker' : failed.length ? 'warning' : 'pass', active ? undefined : new vscode.ThemeColor(failed.length ? 'testing.iconFailed' : 'testing.iconPassed'));
  item.contextValue = 'sweep';
  item.tooltip = new vscode.MarkdownString([
    `**sweep ${escapeMd(g.name)}** · ${escapeMd(sweepSummary(g))}`, `sweep ${g.id} on ${g.host}`,
    ...g.runs.map((r) => `${escapeMd(r.sweep!.variant)}: ${r.state}`),
    ...g.waiting.map((w) => `${escapeMd(w.name)}: ${w.error ? escapeMd(w.error.split('\n')[0]!) : 'waiting'}`),
    failed.length ? `did not succeed: ${failed.map(escapeMd).join(', ')}` : '',
  ].filter(Boolean).join('  \n'));
  return item;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
