// POSIX shell quoting: every value that reaches a remote shell (paths, run ids, settings, anything
// derived from a plan) goes through here. Single quotes make every byte literal except the quote
// itself, which is closed, escaped and reopened. NUL cannot be passed through a shell at all.

export class UnquotableError extends Error {
  constructor(what: string) {
    super(`${what} contains a NUL byte, which no shell can pass`);
    this.name = 'UnquotableError';
  }
}

/** Quotes one word for sh/bash/dash/zsh. */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new UnquotableError(JSON.stringify(value.slice(0, 40)));
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Quotes a remote path but keeps a leading `~/` meaning the remote home (quoting would make the
 * tilde literal): `~/runs/a b` becomes `"$HOME"/'runs/a b'`.
 */
export function shPath(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shQuote(path.slice(2))}`;
  return shQuote(path);
}
