import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DatabaseService, TtlCache, hashKey } from '@cdp/service-kit';

export interface SourceContext {
  workspaceId: string;
  sourceId: string;
  sourceKind: string;
}

/**
 * Segment-style authentication: HTTP Basic with the source's write key as the user name and an
 * empty password, or, without an Authorization header, the `writeKey` field of the body (as
 * analytics SDKs send it). Keys are stored as SHA-256 hashes.
 */
@Injectable()
export class WriteKeyGuard implements CanActivate {
  private readonly sources = new TtlCache<SourceContext | null>(30_000);

  constructor(private readonly db: DatabaseService) {}

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
    // Cached by the key as sent: hashing it costs more than the rest of the check on every call.
    const source = await this.sources.get(writeKey, () => this.resolve(hashKey(writeKey)));
    if (!source) throw new UnauthorizedException('Unknown or disabled write key');
    request.source = source;
    return true;
  }

  private async resolve(writeKeyHash: string): Promise<SourceContext | null> {
    const row = await this.db.client.source.findUnique({ where: { writeKeyHash } });
    return row?.enabled ? { workspaceId: row.workspaceId, sourceId: row.id, sourceKind: row.kind } : null;
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
