// Every handler the server registers goes through one of these wrappers, so no handler decides on
// its own what an exception or a cancellation means. A request is always answered: with its result,
// with RequestCancelled when the client cancelled it before it ran (or while an asynchronous handler
// was working), or with InternalError naming the method when the handler threw — and the failure is
// logged to the client's console with the method and the stack. The server carries on either way.
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver';

export type Log = (message: string) => void;

/** A request's answer when it is not the handler's result (assignable to any handler's error type). */
type Refusal = ResponseError<never>;

const describeError = (e: unknown): string => (e instanceof Error ? e.stack ?? e.message : String(e));
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);

export const cancelled = (method: string): Refusal => new ResponseError<never>(LSPErrorCodes.RequestCancelled, `${method} was cancelled`);

function failed(method: string, log: Log, e: unknown): Refusal {
  log(`${method} failed: ${describeError(e)}`);
  return new ResponseError<never>(ErrorCodes.InternalError, `${method} failed: ${firstLine(e)}`);
}

const isThenable = <T>(v: unknown): v is PromiseLike<T> => typeof v === 'object' && v !== null && typeof (v as PromiseLike<T>).then === 'function';

/**
 * Wraps a request handler. Synchronous handlers stay synchronous (the answer leaves in the same
 * turn, as before); an asynchronous one is checked for cancellation again when it settles.
 */
export function guardedRequest<P, R>(method: string, log: Log, handler: (params: P, token: CancellationToken) => R | PromiseLike<R>):
  (params: P, token: CancellationToken) => R | Refusal | Promise<R | Refusal> {
  return (params, token) => {
    if (token.isCancellationRequested) return cancelled(method);
    let result: R | PromiseLike<R>;
    try {
      result = handler(params, token);
    } catch (e) {
      return failed(method, log, e);
    }
    if (!isThenable<R>(result)) return result;
    return Promise.resolve(result).then(
      (r) => (token.isCancellationRequested ? cancelled(method) : r),
      (e: unknown) => failed(method, log, e),
    );
  };
}

/** The same for a request without params (shutdown): its handler gets the token alone. */
export function guardedRequest0<R>(method: string, log: Log, handler: (token: CancellationToken) => R | PromiseLike<R>):
  (token: CancellationToken) => R | Refusal | Promise<R | Refusal> {
  const guarded = guardedRequest<undefined, R>(method, log, (_params, token) => handler(token));
  return (token) => guarded(undefined, token);
}

/** Wraps a notification handler: an exception is logged with the method name and the stack. */
export function guardedNotification<P>(method: string, log: Log, handler: (params: P) => void): (params: P) => void {
  return (params) => {
    try {
      handler(params);
    } catch (e) {
      log(`${method} failed: ${describeError(e)}`);
    }
  };
}
