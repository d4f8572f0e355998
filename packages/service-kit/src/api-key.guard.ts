import { createHash } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DatabaseService } from './database.service';
import { TtlCache } from './ttl-cache';

export interface Principal {
  workspaceId: string;
  apiKeyId: string;
  scopes: string[];
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Management REST authentication: `Authorization: Bearer <api key>`. Keys are stored hashed in
 * `api_keys` (owned by collection; other services read it, never write it).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly principals = new TtlCache<Principal | null>(30_000);

  constructor(private readonly db: DatabaseService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new UnauthorizedException('Missing "Authorization: Bearer <api key>" header');
    const keyHash = hashKey(match[1]);
    const principal = await this.principals.get(keyHash, () => this.resolve(keyHash));
    if (!principal) throw new UnauthorizedException('Unknown or revoked API key');
    request.principal = principal;
    return true;
  }

  private async resolve(keyHash: string): Promise<Principal | null> {
    const key = await this.db.client.apiKey.findUnique({ where: { keyHash } });
    return key && !key.revokedAt
      ? { workspaceId: key.workspaceId, apiKeyId: key.id, scopes: key.scopes }
      : null;
  }
}
