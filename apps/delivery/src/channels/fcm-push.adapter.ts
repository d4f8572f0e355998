import { importPKCS8, SignJWT } from 'jose';
import {
  RecipientGoneError,
  SendError,
  type ChannelAdapter,
  type OutboundMessage,
  type SendResult,
} from './channel-adapter';
import { httpFailure, providerCall, providerFetch, trimSlash } from './provider-http';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmOptions {
  projectId: string;
  /** Service account e-mail: issuer of the JWT assertion. */
  clientEmail: string;
  /** Service account private key (PKCS#8 PEM). */
  privateKey: string;
  /** Default https://oauth2.googleapis.com/token. */
  tokenUrl?: string;
  /** Default https://fcm.googleapis.com. */
  baseUrl?: string;
  timeoutMs: number;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

/** OAuth2 access tokens shared by FCM adapters, kept until shortly before they expire. */
export class AccessTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  async get(key: string, fetchToken: () => Promise<CachedToken>): Promise<string> {
    const hit = this.tokens.get(key);
    if (hit && hit.expiresAt - 60_000 > Date.now()) return hit.accessToken;
    // One token request per key at a time, however many sends wait for it.
    let request = this.pending.get(key);
    if (!request) {
      request = fetchToken().finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    const token = await request;
    this.tokens.set(key, token);
    return token.accessToken;
  }

  forget(key: string): void {
    this.tokens.delete(key);
  }
}

/**
 * Push through Firebase Cloud Messaging HTTP v1. The access token comes from the service-account
 * JWT bearer flow (RFC 7523): an RS256 assertion signed with the account's key, exchanged at the
 * token endpoint.
 */
export class FcmPushAdapter implements ChannelAdapter {
  readonly channel = 'push' as const;
  readonly provider = 'fcm';
  /** FCM sends no receipts to us. */
  readonly receiptsByProviderId = false;
  private readonly tokenUrl: string;
  private readonly tokenKey: string;

  constructor(
    private readonly options: FcmOptions,
    private readonly tokens: AccessTokenCache,
  ) {
    this.tokenUrl = options.tokenUrl ?? 'https://oauth2.googleapis.com/token';
    this.tokenKey = `${options.clientEmail}|${this.tokenUrl}`;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (!/^[\w:.-]{10,4096}$/.test(message.recipient))
      throw new SendError('push recipient is not an FCM registration token', true);
    const accessToken = await this.tokens.get(this.tokenKey, () => this.fetchToken());
    const body = {
      message: {
        token: message.recipient,
        notification: { title: message.subject ?? '', body: message.text },
        // FCM data values must be strings.
        data: {
          ...Object.fromEntries(
            Object.entries(message.data ?? {}).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          ),
          cdp_message_id: message.messageId,
        },
      },
    };
    const response = await providerFetch(
      this.provider,
      `${trimSlash(this.options.baseUrl ?? 'https://fcm.googleapis.com')}/v1/projects/${encodeURIComponent(this.options.projectId)}/messages:send`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      this.options.timeoutMs,
    );
    const text = await response.text();
    if (response.status === 401) {
      // Revoked or expired early: the next attempt fetches a new token.
      this.tokens.forget(this.tokenKey);
      throw new SendError(`fcm rejected the access token: ${text.slice(0, 300)}`, false);
    }
    if (response.status === 404 && /UNREGISTERED/.test(text))
      throw new RecipientGoneError('fcm registration token is no longer registered');
    if (!response.ok)
      throw httpFailure(this.provider, response.status, text, response.headers.get('retry-after'));
    let name: unknown;
    try {
      name = (JSON.parse(text) as { name?: unknown }).name;
    } catch {
      name = undefined; // accepted all the same
    }
    return {
      provider: this.provider,
      providerMessageId: typeof name === 'string' ? name : message.messageId,
      response: String(response.status),
    };
  }

  private async fetchToken(): Promise<CachedToken> {
    let key: Awaited<ReturnType<typeof importPKCS8>>;
    try {
      key = await importPKCS8(this.options.privateKey, 'RS256');
    } catch (e) {
      throw new SendError(`fcm service account key is not a PKCS#8 RSA key: ${(e as Error).message}`, true);
    }
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.options.clientEmail)
      .setAudience(this.tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
    const response = await providerCall(
      'fcm token endpoint',
      this.tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
      },
      this.options.timeoutMs,
    );
    const answer = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string')
      throw new SendError('fcm token endpoint returned no access_token', false);
    const expiresIn = typeof answer.expires_in === 'number' ? answer.expires_in : 3600;
    return { accessToken: answer.access_token, expiresAt: Date.now() + expiresIn * 1000 };
  }
}
