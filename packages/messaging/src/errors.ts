import type { ValidationIssue } from '@cdp/contracts';

/** NATS cannot be reached (not connected, connection lost, no PubAck in time). HTTP layers answer 503. */
export class MessagingUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MessagingUnavailableError';
  }
}

/**
 * A request/reply call failed: the responder answered with an error (`status` 4xx/5xx as it chose),
 * the request was invalid (400), nobody answers the subject (503) or no reply came in time (504).
 */
export class RpcError extends Error {
  constructor(
    readonly subject: string,
    readonly status: number,
    message: string,
    readonly issues?: ValidationIssue[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RpcError';
  }
}

/** Body of an error reply on the wire: `{ "error": { "status": 400, "message": "...", "issues": [...] } }`. */
export interface RpcErrorReply {
  error: { status: number; message: string; issues?: ValidationIssue[] };
}

/**
 * A readable message for anything thrown. Nest's RpcExceptionsHandler turns a handler's error into
 * a plain object (`{ status: 'error', message: 'Internal server error' }`), not an Error.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const { message } = error as { message?: unknown };
    if (typeof message === 'string') return message;
    try {
      return JSON.stringify(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}

/** HTTP-like status of a handler error: RpcException objects, HttpExceptions, `statusCode`; else 500. */
export function statusOf(error: unknown): number {
  if (error && typeof error === 'object') {
    const e = error as { status?: unknown; statusCode?: unknown; getStatus?: unknown };
    if (typeof e.getStatus === 'function') {
      const s: unknown = (e.getStatus as () => unknown).call(error);
      if (typeof s === 'number') return s;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 600) return e.status;
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return e.statusCode;
  }
  return 500;
}

/** Header values cannot hold CR/LF; keep them short. */
export function headerValue(text: string, max = 1024): string {
  const flat = text.replace(/[\r\n]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
