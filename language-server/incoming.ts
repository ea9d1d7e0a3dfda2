// Shape checks for every notification the server acts on. The client is trusted to speak LSP, but
// one malformed message (`didOpen` with `text: null`) must cost one log line, not the process
// later, when a refresh touches the document it created. Requests need no such guard: a throwing
// request handler is logged and answered with an error (./guarded), and the server carries on.
import type {
  DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
} from 'vscode-languageserver';

/** No editor sends a URI this long; refusing it bounds the keys of every per-document map. */
const MAX_URI_CHARS = 8192;

export type Guard<T> = (p: unknown) => T | string;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUri = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_URI_CHARS;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isPosition = (v: unknown): boolean => isObject(v) && isCount(v.line) && isCount(v.character);
const isRange = (v: unknown): boolean => isObject(v) && isPosition(v.start) && isPosition(v.end);

export const didOpenParams: Guard<DidOpenTextDocumentParams> = (p) => {
  const t = isObject(p) ? p.textDocument : undefined;
  if (!isObject(t)) return 'no textDocument';
  if (!isUri(t.uri)) return 'textDocument.uri is not a URI string';
  if (typeof t.languageId !== 'string') return 'textDocument.languageId is not a string';
  if (!isVersion(t.version)) return 'textDocument.version is not an integer';
  if (typeof t.text !== 'string') return 'textDocument.text is not a string';
  return p as unknown as DidOpenTextDocumentParams;
};

export const didChangeParams: Guard<DidChangeTextDocumentParams> = (p) => {
  const t = isObject(p) ? p.textDocument : undefined;
  if (!isObject(t) || !isUri(t.uri)) return 'textDocument.uri is not a URI string';
  if (!isVersion(t.version)) return 'textDocument.version is not an integer';
  const changes = (p as Record<string, unknown>).contentChanges;
  if (!Array.isArray(changes)) return 'contentChanges is not an array';
  for (const [i, c] of changes.entries()) {
    if (!isObject(c) || typeof c.text !== 'string') return `contentChanges[${i}].text is not a string`;
    if (c.range !== undefined && !isRange(c.range)) return `contentChanges[${i}].range is not a range of non-negative integers`;
  }
  return p as unknown as DidChangeTextDocumentParams;
};

export const didCloseParams: Guard<DidCloseTextDocumentParams> = (p) => {
  const t = isObject(p) ? p.textDocument : undefined;
  if (!isObject(t) || !isUri(t.uri)) return 'textDocument.uri is not a URI string';
  return p as unknown as DidCloseTextDocumentParams;
};

export const didChangeWatchedFilesParams: Guard<DidChangeWatchedFilesParams> = (p) => {
  const changes = isObject(p) ? p.changes : undefined;
  if (!Array.isArray(changes)) return 'changes is not an array';
  for (const [i, c] of changes.entries()) {
    if (!isObject(c) || !isUri(c.uri) || (c.type !== 1 && c.type !== 2 && c.type !== 3)) return `changes[${i}] is not {uri, type 1|2|3}`;
  }
  return p as unknown as DidChangeWatchedFilesParams;
};

/** Wraps a notification handler: a malformed message is logged (method and reason) and dropped. */
export function validated<T>(method: string, guard: Guard<T>, log: (message: string) => void, handler: (params: T) => void): (params: unknown) => void {
  return (params) => {
    const checked = guard(params);
    if (typeof checked === 'string') {
      log(`dropped a malformed ${method} notification: ${checked}`);
      return;
    }
    handler(checked);
  };
}
