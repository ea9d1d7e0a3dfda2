// The "Runs" view: hosts, then their runs with state, elapsed time and last loss.
import * as vscode from 'vscode';
import { isFinal, type RunState } from '../../remote/runStatus';
import type { RunRecord } from '../../remote/runStore';
import { configuredHosts } from './hostConfiguration';
import type { RunRegistry } from './runRegistry';

type Node = { kind: 'host'; host: string } | { kind: 'run'; run: RunRecord };

const ICONS: Record<RunState, [string, string | undefined]> = {
  uploading: ['cloud-upload', undefined],
  queued: ['clock', undefined],
  running: ['sync~spin', 'charts.blue'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', undefined],
  lost: ['question', 'testing.iconFailed'],
};

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
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
    if (node.kind === 'host') return runs.filter((r) => r.host === node.host).map((run) => ({ kind: 'run', run }));
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
    const r = node.run;
    const item = new vscode.TreeItem(r.label, vscode.TreeItemCollapsibleState.None);
    const loss = r.lastLoss === null ? '' : ` · loss ${r.lastLoss.toFixed(4)}`;
    item.description = `${r.state} · ${formatDuration(elapsedOf(r))}${loss}`;
    const [icon, color] = ICONS[r.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = isFinal(r.state) ? 'run-final' : 'run-active';
    item.id = r.id;
    item.tooltip = new vscode.MarkdownString([
      `**${r.label}** (${r.id})`, `host: ${r.host}${r.jobId ? ` · Slurm job ${r.jobId}` : ''}`, `directory: \`${r.remoteDir}\``,
      `state: ${r.state}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`, r.lastStep !== null ? `step ${r.lastStep}` : '',
      r.message ? `\n${r.message}` : '',
    ].filter(Boolean).join('  \n'));
    item.command = { command: 'slayer.openRemoteLog', title: 'Open Log', arguments: [r.id] };
    return item;
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.changed.dispose();
  }
}
