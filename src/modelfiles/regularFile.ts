// Opening a file that must be a regular file (a shard, config.json, an index, events.jsonl). A FIFO
// would block the open (and with it a libuv thread: four such plans starve every other read), a
// device would stream forever, a directory fails late with EISDIR. So: stat first and refuse
// anything that is not a regular file before opening it; then open with O_NONBLOCK (a file swapped
// for a FIFO in between still cannot block) and check the opened handle again. Sizes are checked
// against a limit before a byte is read.
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, statSync, type Stats } from 'node:fs';
import { formatBytes } from '../shared/format';

export type RefusalReason = 'not-regular' | 'too-large';

export class FileRefusedError extends Error {
  constructor(readonly reason: RefusalReason, readonly path: string, detail: string) {
    super(detail);
    this.name = 'FileRefusedError';
  }
}

/** What a path is when it is not a regular file (the runner's checkpoint_files.py names the same kinds). */
export type NotRegularKind = 'dir' | 'fifo' | 'chardev' | 'blockdev' | 'socket' | 'other';

const KIND_TEXT: Readonly<Record<NotRegularKind, string>> = {
  dir: 'a directory', fifo: 'a FIFO', chardev: 'a character device', blockdev: 'a block device', socket: 'a socket', other: 'a special file',
};

export function kindOf(st: Stats): NotRegularKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isSocket()) return 'socket';
  return 'other';
}

// The words of a refusal, one function per fact, for every reader here (local, over SSH) and the
// same as the runner's (checkpoint_files.py): test/contracts/checkpointVerdicts.test.ts compares them.

/** "a FIFO, not a regular file", "a directory, not a regular file", … */
export function notRegularFile(kind: NotRegularKind): string {
  return `${KIND_TEXT[kind]}, not a regular file`;
}

/** A member whose symlink resolves outside `dir` (to `target`, when known). */
export function leadsOutside(dir: string, target?: string): string {
  return `leads outside the checkpoint${target === undefined ? '' : ` (to ${target})`}; refusing to read it as part of ${dir}`;
}

/** "is 2.0 GiB, too large: at most 4.0 MiB is read (see docs/limits.md)". */
export function tooLarge(size: number, maxBytes: number): string {
  return `is ${formatBytes(size)}, too large: at most ${formatBytes(maxBytes)} is read (see docs/limits.md)`;
}

function check(st: Stats, path: string, maxBytes: number | undefined): void {
  if (!st.isFile()) throw new FileRefusedError('not-regular', path, `is ${notRegularFile(kindOf(st))}`);
  if (maxBytes !== undefined && st.size > maxBytes) throw new FileRefusedError('too-large', path, tooLarge(st.size, maxBytes));
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** An open handle on a regular file no larger than `maxBytes`; ENOENT and other I/O errors propagate. */
export async function openRegularFile(path: string, maxBytes?: number): Promise<{ fh: fsp.FileHandle; size: number }> {
  check(await fsp.stat(path), path, maxBytes);
  const fh = await fsp.open(path, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    check(st, path, maxBytes);
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The text of a regular file, or null when it does not exist. Refusals throw FileRefusedError. */
export async function readRegularFile(path: string, maxBytes: number): Promise<string | null> {
  let opened;
  try {
    opened = await openRegularFile(path, maxBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
  try {
    // Read at most the size stat gave (+1 to notice growth): a file growing meanwhile cannot make this unbounded.
    const buf = Buffer.allocUnsafe(opened.size + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await opened.fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) throw new FileRefusedError('too-large', path, 'grew while it was read');
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    await opened.fh.close();
  }
}

/** Synchronous readRegularFile (the plan core's injected readFile is synchronous); undefined when missing. */
export function readRegularFileSync(path: string, maxBytes: number): string | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  check(st, path, maxBytes);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const fst = fstatSync(fd);
    check(fst, path, maxBytes);
    const buf = Buffer.allocUnsafe(fst.size + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
      if (got === buf.length) throw new FileRefusedError('too-large', path, 'grew while it was read');
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
