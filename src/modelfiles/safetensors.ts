// The safetensors format, read by us (no registry package exists for TypeScript):
//   8 bytes  little-endian u64 N
//   N bytes  UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}
//   data     tensors packed back to back; offsets are relative to the first byte after the header.
// Everything here validates before trusting a number, and reports a SafetensorsError that says
// which file, which tensor and what is wrong. Header parsing is pure (bytes in); file access lives
// in ./safetensorsFile.ts.

/** Bytes per element of every dtype we can read. */
export const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** Headers above this are refused before allocating (the reference implementation's limit too). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export type SafetensorsErrorCode =
  | 'truncated'
  | 'header-too-large'
  | 'header-beyond-file'
  | 'invalid-utf8'
  | 'invalid-json'
  | 'not-an-object'
  | 'bad-entry'
  | 'unknown-dtype'
  | 'size-mismatch'
  | 'out-of-range'
  | 'overlap'
  | 'gap'
  | 'trailing-bytes'
  | 'bad-metadata'
  | 'bad-index'
  | 'missing-shard'
  | 'missing-tensor'
  | 'duplicate-tensor'
  | 'no-checkpoint'
  | 'non-integer'
  | 'unlisted-tensor'
  | 'outside-checkpoint'
  | 'not-a-file'
  | 'too-large'
  | 'io';

export class SafetensorsError extends Error {
  constructor(
    readonly code: SafetensorsErrorCode,
    /** The file (or `bytes` when parsing a buffer) the problem is in. */
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range relative to the start of the data region. */
  begin: number;
  end: number;
  numel: number;
}

export interface SafetensorsHeader {
  /** Tensors in header (JSON key) order. */
  tensors: TensorInfo[];
  metadata: Record<string, string> | null;
  /** N, the JSON length. */
  headerLength: number;
  /** Absolute file offset of the data region: 8 + N. */
  dataStart: number;
  /** Bytes of tensor data (the end of the last tensor). */
  dataLength: number;
}

export interface HeaderPrefix {
  headerLength: number;
  dataStart: number;
}

/**
 * Reads N from the first 8 bytes and checks it against the file size (when known), before any
 * allocation of N bytes. `fileSize` undefined = unknown (the caller only has a prefix).
 */
export function parseHeaderPrefix(first8: Uint8Array, fileSize: number | undefined, file = 'bytes'): HeaderPrefix {
  if (first8.length < 8) throw new SafetensorsError('truncated', file, `truncated: ${first8.length} bytes, a safetensors file starts with an 8-byte header length`);
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(first8[i]!);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError('header-too-large', file, `header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupted)`);
  }
  const headerLength = Number(n);
  if (fileSize !== undefined && 8 + headerLength > fileSize) {
    throw new SafetensorsError('header-beyond-file', file, `header length ${headerLength} reaches beyond the end of the file (${fileSize} bytes): truncated or not a safetensors file`);
  }
  if (headerLength < 2) throw new SafetensorsError('invalid-json', file, `header length ${headerLength} is too short for a JSON object`);
  return { headerLength, dataStart: 8 + headerLength };
}

// ignoreBOM keeps a leading BOM in the text, so JSON.parse refuses it as Python's json does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Deeper than this is refused as invalid JSON (a valid header nests 3 levels; the runner's limit too). */
export const MAX_JSON_DEPTH = 64;

/**
 * One pass over JSON text that JSON.parse accepted: the deepest nesting, and whether a number is
 * written as a non-integer (`0.0`, `1e3`) — JSON.parse turns `0.0` into 0, so this is the only
 * place the difference is visible. Strings are skipped (escapes included).
 */
export function scanJsonText(text: string): { depth: number; nonInteger: boolean } {
  let depth = 0;
  let max = 0;
  let nonInteger = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x5b || c === 0x7b /* [ { */) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d /* ] } */) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39) /* - 0-9: a number starts */) {
      for (; i + 1 < text.length; i++) {
        const d = text.charCodeAt(i + 1);
        if (d === 0x2e || d === 0x65 || d === 0x45 /* . e E */) nonInteger = true;
        else if (!(d === 0x2b || d === 0x2d || (d >= 0x30 && d <= 0x39))) break;
      }
    }
  }
  return { depth: max, nonInteger };
}

/** JSON.parse plus the checks both readers apply after it: nesting depth, then (optionally) integer-only numbers. */
export function checkParsedJson(text: string, integersOnly: boolean): 'too-deep' | 'non-integer' | null {
  const { depth, nonInteger } = scanJsonText(text);
  if (depth > MAX_JSON_DEPTH) return 'too-deep';
  return integersOnly && nonInteger ? 'non-integer' : null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates the JSON header. `fileSize` (when known) must equal 8 + N + the end of
 * the data: a shorter file is truncated, a longer one carries bytes no tensor owns.
 */
export function parseHeaderJson(json: Uint8Array, prefix: HeaderPrefix, fileSize: number | undefined, file = 'bytes'): SafetensorsHeader {
  let text: string;
  try {
    text = utf8.decode(json);
  } catch {
    throw new SafetensorsError('invalid-utf8', file, 'header is not valid UTF-8');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('invalid-json', file, `header is not valid JSON (${(e as Error).message})`);
  }
  const after = checkParsedJson(text, true);
  if (after === 'too-deep') throw new SafetensorsError('invalid-json', file, `header is not valid JSON (nested deeper than ${MAX_JSON_DEPTH} levels)`);
  if (after === 'non-integer') throw new SafetensorsError('non-integer', file, 'a number is not written as an integer (e.g. 0.0 or 1e3): shapes and offsets are integers');
  if (!isRecord(raw)) throw new SafetensorsError('not-an-object', file, 'header JSON is not an object');
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(raw)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, file);
      continue;
    }
    tensors.push(parseEntry(name, entry, file));
  }
  const dataLength = checkLayout(tensors, prefix, fileSize, file);
  return { tensors, metadata, headerLength: prefix.headerLength, dataStart: prefix.dataStart, dataLength };
}

function parseMetadata(entry: unknown, file: string): Record<string, string> {
  if (!isRecord(entry)) throw new SafetensorsError('bad-metadata', file, '__metadata__ must be an object of string → string');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') throw new SafetensorsError('bad-metadata', file, `__metadata__ "${k}" is ${JSON.stringify(v)?.slice(0, 40) ?? typeof v}, but metadata values must be strings`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, entry: unknown, file: string): TensorInfo {
  const bad = (what: string): SafetensorsError => new SafetensorsError('bad-entry', file, `tensor "${name}": ${what}`);
  if (!isRecord(entry)) throw bad('entry is not an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw bad('dtype is missing or not a string');
  const size = DTYPE_SIZES[dtype];
  if (size === undefined) throw new SafetensorsError('unknown-dtype', file, `tensor "${name}": unknown dtype "${dtype.slice(0, 40)}" (known: ${Object.keys(DTYPE_SIZES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw bad('shape must be an array of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) throw bad('data_offsets must be [begin, end], two non-negative integers');
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError('out-of-range', file, `tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
  let numel = 1;
  for (const d of shape as number[]) {
    numel *= d;
    if (!Number.isSafeInteger(numel * size)) throw new SafetensorsError('size-mismatch', file, `tensor "${name}": shape [${shape.join(', ')}] is too large`);
  }
  if (numel * size !== end - begin) {
    throw new SafetensorsError('size-mismatch', file, `tensor "${name}": shape [${shape.join(', ')}] of ${dtype} needs ${numel * size} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end, numel };
}

/** Tensors must tile [0, dataLength) exactly: no gap, no overlap, nothing outside the file. */
function checkLayout(tensors: readonly TensorInfo[], prefix: HeaderPrefix, fileSize: number | undefined, file: string): number {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < at) throw new SafetensorsError('overlap', file, `tensors "${prev!.name}" [${prev!.begin}, ${prev!.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap`);
    if (t.begin > at) throw new SafetensorsError('gap', file, `bytes [${at}, ${t.begin}) of the data belong to no tensor (before "${t.name}"): offsets are not contiguous`);
    at = t.end;
    prev = t;
  }
  if (fileSize !== undefined) {
    const available = fileSize - prefix.dataStart;
    if (at > available) {
      const last = prev!;
      throw new SafetensorsError('out-of-range', file, `tensor "${last.name}" ends at data byte ${last.end}, but the file holds only ${available} bytes of data (truncated file?)`);
    }
    if (at < available) throw new SafetensorsError('trailing-bytes', file, `${available - at} bytes after the last tensor belong to no tensor`);
  }
  return at;
}

/**
 * Parses a header from the bytes of a file (or its first 8 + N bytes). `fileSize` = the whole
 * file's size when `bytes` is only a prefix; defaults to `bytes.length`.
 */
export function parseSafetensors(bytes: Uint8Array, fileSize: number | undefined = bytes.length, file = 'bytes'): SafetensorsHeader {
  const prefix = parseHeaderPrefix(bytes.subarray(0, 8), fileSize, file);
  if (bytes.length < prefix.dataStart) {
    throw new SafetensorsError('truncated', file, `truncated: the header needs ${prefix.headerLength} bytes after the length, only ${bytes.length - 8} present`);
  }
  return parseHeaderJson(bytes.subarray(8, prefix.dataStart), prefix, fileSize, file);
}

/** Bytes per element; throws for a dtype we do not know. */
export function dtypeSize(dtype: string): number {
  const s = DTYPE_SIZES[dtype];
  if (s === undefined) throw new SafetensorsError('unknown-dtype', dtype, `unknown dtype "${dtype}"`);
  return s;
}
