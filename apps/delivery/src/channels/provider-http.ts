import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SendError } from './channel-adapter';

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
}

/** Most bytes of an answer kept; the rest is dropped (an error text needs no more). */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * Keep-alive connections shared by every provider call of the process. node:http instead of fetch:
 * the delivery benchmark profiled fetch (undici's WHATWG layers) as the largest CPU cost of an SMS.
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};

/** One HTTP call with a timeout; a request that never got an answer is a transient failure. */
export function providerFetch(
  provider: string,
  url: string,
  init: ProviderRequest,
  timeoutMs: number,
): Promise<ProviderResponse> {
  return new Promise<ProviderResponse>((resolve, reject) => {
    const unreachable = (e: Error & { code?: string }) =>
      reject(new SendError(`${provider} unreachable: ${e.message}${e.code ? ` (${e.code})` : ''}`, false));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reject(new SendError(`${provider}: invalid URL ${url}`, true));
    }
    const agent = agents[target.protocol as keyof typeof agents];
    if (!agent) return reject(new SendError(`${provider}: unsupported URL ${url}`, true));
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method,
        agent,
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.on('error', unreachable);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            headers: {
              get: (name) => {
                const value = res.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
              },
            },
            text: () => Promise.resolve(text),
            json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
          });
        });
      },
    );
    const timer = setTimeout(
      () =>
        request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    request.on('error', (e) => {
      clearTimeout(timer);
      unreachable(e);
    });
    request.end(init.body);
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
