// The one rule for which files may be read as part of a checkpoint, the same as the runner's
// (runner/slayer_runner/checkpoint_files.py): a member name is relative without `..` or NUL
// (isMemberName); once symlinks are resolved it must lie inside the checkpoint directory — or, for
// a Hugging Face cache snapshot (…/models--X/snapshots/REV/), in that repository's blobs/, where
// the cache keeps the bytes its snapshot symlinks point to; and it must be a regular file (a FIFO
// or a device would hang the reader or never end). Both sides are tested on one corpus
// (test/contracts/checkpointVerdicts.test.ts).
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { isMemberName } from './checkpoint';
import { kindOf, leadsOutside, notRegularFile } from './regularFile';
import { SafetensorsError } from './safetensors';

function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** `…/models--X/blobs` when `root` is a Hugging Face cache snapshot `…/models--X/snapshots/REV`. */
function hfBlobs(root: string): string | null {
  const snapshots = dirname(root);
  const repo = dirname(snapshots);
  return basename(snapshots) === 'snapshots' && /^(models|datasets)--/.test(basename(repo)) ? join(repo, 'blobs') : null;
}

async function realpathOrSelf(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    return p;
  }
}

/**
 * The checked real path of `name` in `dir`, or a SafetensorsError: `bad-index` for a name that is
 * not a member name, `outside-checkpoint` when a symlink leads out, `missing-shard` when absent,
 * `not-a-file` for anything but a regular file.
 */
export async function memberPath(dir: string, name: string, where = dir): Promise<string> {
  if (!isMemberName(name)) throw new SafetensorsError('bad-index', where, `${JSON.stringify(name)} is not a shard file name inside the checkpoint`);
  const root = await realpathOrSelf(dir);
  const shown = join(dir, name);
  let real: string;
  try {
    real = await fsp.realpath(join(root, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new SafetensorsError('io', shown, (e as Error).message);
    // Absent, or a dangling symlink: where would it lead? Refuse a way out before "missing".
    const target = await fsp.readlink(join(root, name)).catch(() => null);
    if (target !== null && !within(target.startsWith('/') ? target : join(dirname(join(root, name)), target), root)) {
      throw new SafetensorsError('outside-checkpoint', shown, leadsOutside(dir, target));
    }
    throw new SafetensorsError('missing-shard', shown, 'no such file');
  }
  const blobs = hfBlobs(root);
  if (!within(real, root) && !(blobs !== null && within(real, await realpathOrSelf(blobs)))) {
    throw new SafetensorsError('outside-checkpoint', shown, leadsOutside(dir, real));
  }
  const st = await fsp.stat(real);
  if (!st.isFile()) throw new SafetensorsError('not-a-file', shown, notRegularFile(kindOf(st)));
  return real;
}

/** Whether `name` is present at all (a dangling symlink or a FIFO counts: reading it refuses it). */
export async function memberExists(dir: string, name: string): Promise<boolean> {
  try {
    await fsp.lstat(join(dir, name));
    return true;
  } catch {
    return false;
  }
}
