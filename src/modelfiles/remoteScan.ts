// The checkpoint scan over SSH in one round trip: a POSIX sh script prints config.json, the
// index and the first 8 + N bytes of every *.safetensors file (N decoded from the file's own
// length prefix with od), framed by byte counts so any file name or content survives. The parser
// below turns that output into the same Checkpoint the local reader builds, then inspects it.
import { shPath } from '../remote/shellQuote';
import { assembleCheckpoint, INDEX_FILE, indexShards, parseIndex, unindexedShards, type Checkpoint, type ShardHeader } from './checkpoint';
import { inspect, type CheckpointReport } from './inspect';
import { MAX_HEADER_BYTES, parseSafetensors, SafetensorsError } from './safetensors';

const MAGIC = 'SLAYER-SCAN 1';

/** What the scan prints, unframed. */
export interface RemoteScanOutput {
  /** Absolute path of the checkpoint directory on the host. */
  dir: string;
  configJson: string | null;
  indexJson: string | null;
  /** Every *.safetensors file: its size and its first min(size, 8 + N) bytes. */
  files: { file: string; size: number; head: Buffer }[];
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
    'for k in config:config.json index:model.safetensors.index.json; do',
    '  f=${k#*:}',
    '  if [ -f "$f" ]; then',
    `    [ -r "$f" ] || { printf 'cannot read %s/%s\\n' "$PWD" "$f" >&2; exit 3; }`,
    `    n=$(wc -c < "$f"); printf '%s %s\\n' "\${k%%:*}" $((n + 0)); cat "$f" || exit 3`,
    `  else printf '%s -1\\n' "\${k%%:*}"; fi`,
    'done',
    'for f in *.safetensors; do',
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
  const optional = (kind: string): string | null => {
    const [k, n] = c.line().split(' ');
    if (k !== kind) throw new Error(`malformed scan output: expected ${kind}, got ${k}`);
    const len = int(n, `${kind} length`);
    return len < 0 ? null : c.bytes(len).toString('utf8');
  };
  const configJson = optional('config');
  const indexJson = optional('index');
  const files: RemoteScanOutput['files'] = [];
  for (;;) {
    const parts = c.line().split(' ');
    if (parts[0] === 'end' && parts.length === 1) break;
    if (parts[0] !== 'shard' || parts.length !== 4) throw new Error(`malformed scan output: unexpected line "${parts.join(' ').slice(0, 40)}"`);
    const file = c.bytes(int(parts[1], 'name length')).toString('utf8');
    const size = int(parts[2], 'size');
    const head = Buffer.from(c.bytes(int(parts[3], 'header length')));
    files.push({ file, size, head });
  }
  if (c.at !== out.length) throw new Error(`malformed scan output: ${out.length - c.at} bytes after the end marker`);
  return { dir, configJson, indexJson, files };
}

/** The Checkpoint the scanned headers describe (same rules as the local reader). */
export function checkpointFromScan(scan: RemoteScanOutput, label = scan.dir): Checkpoint {
  const byName = new Map(scan.files.map((f) => [f.file, f]));
  const index = scan.indexJson === null ? null : parseIndex(scan.indexJson, `${label}/${INDEX_FILE}`);
  // With an index, absent shards are left out here: assembleCheckpoint reports them.
  const names = index ? indexShards(index).filter((f) => byName.has(f)) : unindexedShards(label, byName.keys());
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
