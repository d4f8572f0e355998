import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SourceKeys, type SourceContext } from './source-keys';

export type { SourceContext } from './source-keys';

/**
 * Segment-style authentication: HTTP Basic with the source's write key as the user name and an
 * empty password, or, without an Authorization header, the `writeKey` field of the body (as
 * analytics SDKs send it). Keys are stored as SHA-256 hashes.
 */
@Injectable()
export class WriteKeyGuard implements CanActivate {
  constructor(private readonly keys: SourceKeys) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string | undefined>;
      body?: unknown;
      source?: SourceContext;
    }>();
    const writeKey =
      request.headers.authorization === undefined
        ? writeKeyFromBody(request.body)
        : writeKeyFromBasicAuth(request.headers.authorization);
    if (!writeKey)
      throw new UnauthorizedException(
        'Missing write key: use HTTP Basic auth with the write key as user name, or a writeKey field in the body',
      );
    const source = await this.keys.sourceOf(writeKey);
    if (!source) throw new UnauthorizedException('Unknown, disabled or expired write key');
    request.source = source;
    return true;
  }
}

export function writeKeyFromBasicAuth(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const user = decoded.split(':')[0];
  return user || undefined;
}

export function writeKeyFromBody(body: unknown): string | undefined {
  const key =
    typeof body === 'object' && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined;
  return typeof key === 'string' && key !== '' ? key : undefined;
}
