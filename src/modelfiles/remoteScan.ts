// The checkpoint scan over SSH in one round trip: a POSIX sh script prints config.json, the
// index and the first 8 + N bytes of every *.safetensors file (N decoded from the file's own
// length prefix with od), framed by byte counts so any file name or content survives. The parser
// below turns that output into the same Checkpoint the local reader builds, then inspects it.
import { shPath } from '../shared/shellQuote';
import { assembleCheckpoint, INDEX_FILE, indexShards, parseIndex, unindexedShards, type Checkpoint, type ShardHeader } from './checkpoint';
import { inspect, type CheckpointReport } from './inspect';
import { leadsOutside, notRegularFile, type NotRegularKind } from './regularFile';
import { MAX_HEADER_BYTES, parseSafetensors, SafetensorsError } from './safetensors';

const MAGIC = 'SLAYER-SCAN 1';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What the scan prints, unframed. */
export interface RemoteScanOutput {
  /** Absolute path of the checkpoint directory on the host. */
  dir: string;
  configJson: string | null;
  indexJson: string | null;
  /** Every *.safetensors file: its size and its first min(size, 8 + N) bytes. */
  files: { file: string; size: number; head: Buffer }[];
  /**
   * *.safetensors entries (and the index) the script did not read, with why: the same member
   * rule as the local reader (members.ts) — not a regular file, or a symlink leading outside the
   * checkpoint (or its Hugging Face cache blobs/).
   */
  /** The index's bytes were not valid UTF-8 (`indexJson` is then a lossy decoding): refused as locally. */
  indexNotUtf8?: boolean;
  refused?: { file: string; why: 'outside' | NotRegularKind; target?: string }[];
}

/** The remote answer: config.json text for the plan core, and the inspection of the headers. */
export interface RemoteCheckpoint {
  configJson: string | null;
  report: CheckpointReport;
}

/**
 * The scan script. `wc -c` gets sizes from the inode, `od -N8` the length prefix, `head -c` the
 * header bytes only; a header larger than MAX_HEADER_BYTES (or a u64 ≥ 2^32) sends just its 8
 * bytes so the parser reports it. LC_ALL=C makes ${#f} count bytes.
 */
export function scanCommand(path: string): string {
  return [
    'export LC_ALL=C',
    `D=${shPath(path)}`,
    `[ -d "$D" ] || { printf '%s: No such file or directory\\n' "$D" >&2; exit 2; }`,
    'cd "$D" || exit 2',
    `printf '%s\\n' '${MAGIC}'`,
    `printf 'dir %s\\n%s' "\${#PWD}" "$PWD"`,
    // The member rule (members.ts): P = the physical directory, B = its HF cache blobs/ if a snapshot.
    'P=$(pwd -P); B=; R=$(dirname "$P")',
    'if [ "$(basename "$R")" = snapshots ]; then case $(basename "$(dirname "$R")") in models--*|datasets--*) B=$(cd -P "$(dirname "$R")/blobs" 2>/dev/null && pwd -P);; esac; fi',
    // refuse NAME: prints "refused <len> <why>" (+ " <len>" and where it leads, for outside) when NAME
    // is not a regular file inside, else returns 1.
    'refuse() {',
    '  w=',
    '  if [ -L "$1" ]; then',
    '    r=$(readlink -f -- "$1" 2>/dev/null || realpath -- "$1" 2>/dev/null)',
    '    case "$r" in "$P"/*) ;; *) if [ -z "$B" ]; then w=outside; else case "$r" in "$B"/*) ;; *) w=outside;; esac; fi;; esac',
    '  fi',
    '  if [ -z "$w" ] && [ -e "$1" ] && [ ! -f "$1" ]; then',
    '    w=other; [ -p "$1" ] && w=fifo; [ -d "$1" ] && w=dir; [ -c "$1" ] && w=chardev; [ -b "$1" ] && w=blockdev; [ -S "$1" ] && w=socket',
    '  fi',
    `  [ -n "$w" ] || return 1`,
    `  if [ "$w" = outside ]; then printf 'refused %s outside %s\\n%s%s' "\${#1}" "\${#r}" "$1" "$r"; else printf 'refused %s %s\\n%s' "\${#1}" "$w" "$1"; fi`,
    '}',
    'for k in config:config.json index:model.safetensors.index.json; do',
    '  f=${k#*:}',
    `  if [ "$f" = model.safetensors.index.json ] && refuse "$f"; then printf 'index -1\\n'; continue; fi`,
    '  if [ -f "$f" ]; then',
    `    [ -r "$f" ] || { printf 'cannot read %s/%s\\n' "$PWD" "$f" >&2; exit 3; }`,
    `    n=$(wc -c < "$f"); printf '%s %s\\n' "\${k%%:*}" $((n + 0)); cat "$f" || exit 3`,
    `  else printf '%s -1\\n' "\${k%%:*}"; fi`,
    'done',
    'for f in *.safetensors; do',
    '  refuse "$f" && continue',
    '  [ -f "$f" ] || continue',
    `  [ -r "$f" ] || { printf 'cannot read %s/%s\\n' "$PWD" "$f" >&2; exit 3; }`,
    '  size=$(wc -c < "$f"); size=$((size + 0))',
    '  set -- $(od -An -v -tu1 -N8 "$f")',
    '  take=8',
    `  if [ $# -eq 8 ] && [ "$5$6$7$8" = 0000 ]; then`,
    '    n=$(( $1 + $2 * 256 + $3 * 65536 + $4 * 16777216 ))',
    `    [ "$n" -le ${MAX_HEADER_BYTES} ] && take=$((8 + n))`,
    '  fi',
    '  [ "$take" -gt "$size" ] && take=$size',
    `  printf 'shard %s %s %s\\n%s' "\${#f}" "$size" "$take" "$f"`,
    '  head -c "$take" "$f" || exit 3',
    'done',
    `printf 'end\\n'`,
  ].join('\n');
}

class Cursor {
  at = 0;
  constructor(private readonly b: Buffer) {}
  line(): string {
    const nl = this.b.indexOf(0x0a, this.at);
    if (nl < 0) throw new Error(`malformed scan output: unterminated line at byte ${this.at} (output cut short?)`);
    const s = this.b.subarray(this.at, nl).toString('utf8');
    this.at = nl + 1;
    return s;
  }
  bytes(n: number): Buffer {
    if (this.at + n > this.b.length) throw new Error(`malformed scan output: ${n} bytes announced at byte ${this.at}, ${this.b.length - this.at} left (output cut short?)`);
    const s = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return s;
  }
}

const int = (s: string | undefined, what: string): number => {
  const n = Number(s);
  if (s === undefined || !/^-?\d+$/.test(s) || !Number.isSafeInteger(n)) throw new Error(`malformed scan output: ${what} "${s ?? ''}" is not an integer`);
  return n;
};

/** Unframes the script's stdout; throws on anything that is not exactly what the script prints. */
export function parseScanOutput(out: Buffer): RemoteScanOutput {
  const c = new Cursor(out);
  if (c.line() !== MAGIC) throw new Error('malformed scan output: missing the SLAYER-SCAN header');
  const dirLine = c.line().split(' ');
  if (dirLine[0] !== 'dir') throw new Error('malformed scan output: no dir');
  const dir = c.bytes(int(dirLine[1], 'dir length')).toString('utf8');
  let indexNotUtf8 = false;
  const optional = (kind: string): string | null => {
    const [k, n] = c.line().split(' ');
    if (k !== kind) throw new Error(`malformed scan output: expected ${kind}, got ${k}`);
    const len = int(n, `${kind} length`);
    if (len < 0) return null;
    const bytes = c.bytes(len);
    if (kind === 'index') {
      try {
        return strictUtf8.decode(bytes);
      } catch {
        indexNotUtf8 = true;
      }
    }
    return bytes.toString('utf8');
  };
  const refused: NonNullable<RemoteScanOutput['refused']> = [];
  const refusedLine = (parts: string[]): void => {
    const why = parts[2] as NonNullable<RemoteScanOutput['refused']>[number]['why'];
    if (!['outside', 'fifo', 'dir', 'chardev', 'blockdev', 'socket', 'other'].includes(why)) throw new Error(`malformed scan output: refused "${why}"`);
    const file = c.bytes(int(parts[1], 'name length')).toString('utf8');
    const target = why === 'outside' && parts.length === 4 ? c.bytes(int(parts[3], 'target length')).toString('utf8') : '';
    refused.push(target ? { file, why, target } : { file, why });
  };
  const isRefusedLine = (parts: string[]): boolean => parts[0] === 'refused' && (parts.length === 3 || (parts.length === 4 && parts[2] === 'outside'));
  const configJson = optional('config');
  let indexJson: string | null;
  {
    const at = c.at;
    const parts = c.line().split(' ');
    if (isRefusedLine(parts)) {
      refusedLine(parts);
      indexJson = optional('index');
    } else {
      c.at = at;
      indexJson = optional('index');
    }
  }
  const files: RemoteScanOutput['files'] = [];
  for (;;) {
    const parts = c.line().split(' ');
    if (parts[0] === 'end' && parts.length === 1) break;
    if (isRefusedLine(parts)) {
      refusedLine(parts);
      continue;
    }
    if (parts[0] !== 'shard' || parts.length !== 4) throw new Error(`malformed scan output: unexpected line "${parts.join(' ').slice(0, 40)}"`);
    const file = c.bytes(int(parts[1], 'name length')).toString('utf8');
    const size = int(parts[2], 'size');
    const head = Buffer.from(c.bytes(int(parts[3], 'header length')));
    files.push({ file, size, head });
  }
  if (c.at !== out.length) throw new Error(`malformed scan output: ${out.length - c.at} bytes after the end marker`);
  return { dir, configJson, indexJson, files, refused, indexNotUtf8 };
}

function refusedError(label: string, r: NonNullable<RemoteScanOutput['refused']>[number]): SafetensorsError {
  const shown = `${label}/${r.file}`;
  return r.why === 'outside' ? new SafetensorsError('outside-checkpoint', shown, leadsOutside(label, r.target)) : new SafetensorsError('not-a-file', shown, notRegularFile(r.why));
}

/** The Checkpoint the scanned headers describe (same rules as the local reader). */
export function checkpointFromScan(scan: RemoteScanOutput, label = scan.dir): Checkpoint {
  const byName = new Map(scan.files.map((f) => [f.file, f]));
  const refused = new Map((scan.refused ?? []).map((r) => [r.file, r]));
  const refusedIndex = refused.get(INDEX_FILE);
  if (refusedIndex) throw refusedError(label, refusedIndex);
  if (scan.indexNotUtf8) throw new SafetensorsError('bad-index', `${label}/${INDEX_FILE}`, 'not valid UTF-8');
  const index = scan.indexJson === null ? null : parseIndex(scan.indexJson, `${label}/${INDEX_FILE}`);
  // Files the script refused to read are refused here as the local reader refuses them.
  const wanted = index ? indexShards(index) : unindexedShards(label, [...byName.keys(), ...refused.keys()]);
  for (const f of wanted) {
    const r = refused.get(f);
    if (r) throw refusedError(label, r);
  }
  // With an index, absent shards are left out here: assembleCheckpoint reports them.
  const names = wanted.filter((f) => byName.has(f));
  const shards: ShardHeader[] = names.map((file) => {
    const f = byName.get(file)!;
    return { file, size: f.size, header: parseSafetensors(f.head, f.size, `${label}/${file}`) };
  });
  return assembleCheckpoint(label, index, shards);
}

/** Inspects scanned output: header problems become diagnostics, not exceptions. */
export function inspectScan(scan: RemoteScanOutput, label = scan.dir): RemoteCheckpoint {
  let checkpoint: Checkpoint | null = null;
  let error: SafetensorsError | undefined;
  try {
    checkpoint = checkpointFromScan(scan, label);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    error = e;
  }
  return { configJson: scan.configJson, report: inspect(label, checkpoint, scan.configJson, error) };
}

/** The RemoteScan the remote-model cache runs (src/remote/remoteModelCache.ts). */
export const checkpointScan = {
  command: scanCommand,
  parse: (stdout: Buffer): RemoteCheckpoint => inspectScan(parseScanOutput(stdout)),
};
