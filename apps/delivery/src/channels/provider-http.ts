import { Agent, buildConnector, type Dispatcher } from 'undici';
import { SendError } from './channel-adapter';
import { coalesceWritesPerTurn } from './coalesce-writes';

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The SendError for a provider's non-2xx answer: 429 and 408 are transient (with the provider's
 * Retry-After), other 4xx permanent (the request itself is wrong), 5xx transient.
 */
export function httpFailure(
  provider: string,
  status: number,
  body: string,
  retryAfter?: string | null,
): SendError {
  const reason = `${provider} answered ${status}: ${body.slice(0, 500)}`;
  if (status === 429 || status === 408) return new SendError(reason, false, retryAfterMs(retryAfter));
  return new SendError(
    reason,
    status >= 400 && status < 500,
    status >= 500 ? retryAfterMs(retryAfter) : undefined,
  );
}

/** A provider's answer, read whole (provider answers are small). */
export interface ProviderResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface ProviderRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  /**
   * The request carries the provider's idempotency key, so the provider drops a repeat: it may go
   * out pipelined behind others on a connection, and undici sends it again on a new connection
   * when the one it went out on closes before its answer (as a retry after a timeout would).
   */
  idempotent?: boolean;
}

/** Most bytes of an answer kept; the rest is dropped (an error text needs no more). */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * Idempotent requests go out HTTP/1.1-pipelined on up to this many connections per provider
 * origin, up to PIPELINING in flight on each: 512, more than the send jobs of a process have at
 * once (10 jobs of up to 50 messages). Few connections, so that the calls of a turn share them.
 */
const PIPELINED_CONNECTIONS = 16;
const PIPELINING = 32;

/**
 * The connection undici would open, whose writes of one event-loop turn leave in one `writev`:
 * the requests pipelined on it in that turn go out together, instead of a syscall (and, on the
 * provider's side, a wake-up and a read) each.
 */
const connectCoalescing: buildConnector.connector = (() => {
  const connect = buildConnector({});
  return (options, callback) =>
    connect(options, (...result) => {
      const socket = result[1];
      if (socket) coalesceWritesPerTurn(socket);
      callback(...result);
    });
})();

/**
 * Keep-alive connections shared by every provider call of the process. undici's `request()`
 * rather than node:http (its ClientRequest and agent were ~8-10% of the CPU of an SMS in the
 * delivery benchmark) or fetch (undici's WHATWG layers, once the largest CPU cost of an SMS).
 * Pipelining cuts the writes and reads per call on both sides, the largest cost left of an SMS;
 * the price is head-of-line blocking: an answer that is slow to come delays those behind it on
 * its connection (up to the call's timeout). Requests that are not idempotent are never
 * pipelined (undici would not send them behind others anyway), so they have their own pool.
 */
const pipelined = new Agent({
  connections: PIPELINED_CONNECTIONS,
  pipelining: PIPELINING,
  connect: connectCoalescing,
});
const oneAtATime = new Agent({ connections: 256 });

/**
 * One HTTP call; a request that never got an answer is a transient failure. `timeoutMs` bounds
 * the connect, the wait for the answer's headers and each wait for more of its body.
 */
export async function providerFetch(
  provider: string,
  url: string,
  init: ProviderRequest,
  timeoutMs: number,
): Promise<ProviderResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new SendError(`${provider}: invalid URL ${url}`, true);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new SendError(`${provider}: unsupported URL ${url}`, true);
  let text: string;
  let res: Dispatcher.ResponseData;
  try {
    res = await (init.idempotent ? pipelined : oneAtATime).request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: init.method,
      headers: init.headers,
      body: init.body,
      // undici pipelines only idempotent requests whose answers are not expected to be slow.
      ...(init.idempotent && { idempotent: true, blocking: false }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    text = await readAnswer(res);
  } catch (e) {
    const { message, code } = e as Error & { code?: string };
    throw new SendError(`${provider} unreachable: ${message}${code ? ` (${code})` : ''}`, false);
  }
  const status = res.statusCode;
  const headers = res.headers;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get: (name) => {
        const value = headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: () => Promise.resolve(text),
    json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
  };
}

/** The answer's body as text, at most MAX_ANSWER_BYTES of it (the rest is read and dropped). */
function readAnswer(res: Dispatcher.ResponseData): Promise<string> {
  const length = Number(res.headers['content-length']);
  if (length >= 0 && length <= MAX_ANSWER_BYTES) return res.body.text();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.body.on('data', (chunk: Buffer) => {
      if (size + chunk.length <= MAX_ANSWER_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    res.body.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.body.on('error', reject);
  });
}

/** Sends, then turns any non-2xx answer into the matching SendError. */
export async function providerCall(
  provider: string,
  url: string,
  init: ProviderRequest,
  timeoutMs: number,
): Promise<ProviderResponse> {
  const response = await providerFetch(provider, url, init, timeoutMs);
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    throw httpFailure(provider, response.status, body, response.headers.get('retry-after'));
  }
  return response;
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
