// Collects what a RunMonitor delivers, for assertions.
import type { RunnerEvent } from '../../../src/protocol/runnerEvents';
import type { MonitorListener } from '../../../src/remote/runMonitor';
import type { RunRecord } from '../../../src/remote/runStore';

export class Collector implements MonitorListener {
  events: RunnerEvent[] = [];
  log: string[] = [];
  notices: string[] = [];
  states: string[] = [];
  onEvents(_id: string, events: RunnerEvent[]): void {
    this.events.push(...events);
  }
  onLog(_id: string, lines: string[]): void {
    this.log.push(...lines);
  }
  onNotice(_id: string, message: string): void {
    this.notices.push(message);
  }
  onRecord(r: RunRecord): void {
    if (this.states[this.states.length - 1] !== r.state) this.states.push(r.state);
  }
  /** Every seq from 0 to the last, exactly once. */
  seqProblems(): string[] {
    const out: string[] = [];
    this.events.forEach((e, i) => {
      if (e.seq !== i) out.push(`event #${i} has seq ${e.seq}`);
    });
    return out;
  }
}
