// Status bar item for the active run: step, loss and ETA; also drives the slayer.hasActiveRun context key.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol/commands';
import { runDisplayName } from '../../remote/runStore';
import type { RunRegistry } from './runRegistry';
import { formatDuration } from './runsTreeView';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('slayer.activeRun', vscode.StatusBarAlignment.Left, 50);
  private readonly subs: vscode.Disposable[];

  constructor(private readonly registry: RunRegistry) {
    this.item.name = 'SLayer active run';
    this.subs = [registry.onDidChangeRuns(() => this.update()), registry.onDidReceiveEvents(() => this.update())];
    this.update();
  }

  private update(): void {
    const r = this.registry.activeRun();
    void vscode.commands.executeCommand('setContext', 'slayer.hasActiveRun', r !== undefined);
    if (!r) {
      this.item.hide();
      return;
    }
    const parts = [`$(sync~spin) ${runDisplayName(r)}`];
    if (r.state === 'queued' || r.state === 'uploading') parts.push(r.state);
    if (r.lastStep !== null) parts.push(`step ${r.lastStep}`);
    if (r.lastLoss !== null) parts.push(`loss ${r.lastLoss.toFixed(3)}`);
    if (r.etaS !== null) parts.push(`ETA ${formatDuration(r.etaS * 1000)}`);
    this.item.text = parts.join(' · ');
    this.item.tooltip = `${runDisplayName(r)} (${r.label}) on ${r.host} — click to open its log`;
    this.item.command = { command: COMMANDS.openRemoteLog, title: 'Open Log', arguments: [r.id] };
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
