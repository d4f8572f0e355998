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

/** fetch with a timeout; a request that never got an answer is a transient failure. */
export async function providerFetch(
  provider: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new SendError(
      `${provider} unreachable: ${(e as Error).message}${cause ? ` (${cause})` : ''}`,
      false,
    );
  }
}

/** Sends, then turns any non-2xx answer into the matching SendError. */
export async function providerCall(
  provider: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
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
