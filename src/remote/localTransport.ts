// The `localhost` target: the same scripts as over SSH, run by the local /bin/sh.
import { spawnCollect, spawnStream } from './childProcessIo';
import type { ExecOptions, ExecResult, StreamHandle, Transport } from './transport';

export class LocalTransport implements Transport {
  readonly name = 'localhost';

  exec(script: string, options?: ExecOptions): Promise<ExecResult> {
    return spawnCollect('/bin/sh', ['-c', script], options);
  }

  stream(script: string, onData: (chunk: Buffer) => void): StreamHandle {
    return spawnStream('/bin/sh', ['-c', script], onData);
  }

  async close(): Promise<void> {
    // nothing held open
  }
}
