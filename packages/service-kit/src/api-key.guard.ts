import { createHash } from 'node:crypto';
import {
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
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

/** A cached key and when it stops working by itself (epoch ms; undefined: never). */
interface CachedKey {
  principal: Principal;
  expiresAt?: number;
}

/**
 * Looks management API keys up by hash, cached for 30 s: a key revoked elsewhere stops working
 * within that, one revoked through this process at once ({@link forget}); an expired key stops at
 * its expiry whatever the cache holds. One per process (the guard instances share it).
 */
@Injectable()
export class ApiKeys {
  private readonly keys = new TtlCache<CachedKey | null>(30_000);
  /** Keys used since the last {@link takeUses}: the latest use of each (bounded by the keys that exist). */
  private uses = new Map<string, { workspaceId: string; at: number }>();

  constructor(private readonly db: DatabaseService) {}

  async principalOf(key: string): Promise<Principal | null> {
    const keyHash = hashKey(key);
    const cached = await this.keys.get(keyHash, () => this.load(keyHash));
    const now = Date.now();
    if (!cached || (cached.expiresAt !== undefined && cached.expiresAt <= now)) return null;
    this.uses.set(cached.principal.apiKeyId, { workspaceId: cached.principal.workspaceId, at: now });
    return cached.principal;
  }

  /** The keys used since the last call, each with its latest use, per workspace; starts afresh. */
  takeUses(): Map<string, { apiKeyId: string; usedAt: Date }[]> {
    const byWorkspace = new Map<string, { apiKeyId: string; usedAt: Date }[]>();
    for (const [apiKeyId, { workspaceId, at }] of this.uses) {
      const uses = byWorkspace.get(workspaceId) ?? [];
      uses.push({ apiKeyId, usedAt: new Date(at) });
      byWorkspace.set(workspaceId, uses);
    }
    this.uses = new Map();
    return byWorkspace;
  }

  /** Uses a report could not deliver, kept for the next one (a later use of the same key wins). */
  restoreUses(workspaceId: string, uses: { apiKeyId: string; usedAt: Date }[]): void {
    for (const { apiKeyId, usedAt } of uses) {
      const newer = this.uses.get(apiKeyId);
      if (!newer || newer.at < usedAt.getTime())
        this.uses.set(apiKeyId, { workspaceId, at: usedAt.getTime() });
    }
  }

  /** Drops every cached key, after this process revoked one. */
  forget(): void {
    this.keys.clear();
  }

  private async load(keyHash: string): Promise<CachedKey | null> {
    const key = await this.db.client.apiKey.findUnique({ where: { keyHash } });
    if (!key || key.revokedAt) return null;
    return {
      principal: { workspaceId: key.workspaceId, apiKeyId: key.id, scopes: key.scopes },
      ...(key.expiresAt && { expiresAt: key.expiresAt.getTime() }),
    };
  }
}

const REQUIRED_SCOPE = 'cdp:required-scope';

/**
 * The scope a management endpoint needs (on the handler or its controller; the handler's wins), e.g.
 * `customers:read`. Without one, an endpoint needs `admin`.
 */
export const RequireScope = (scope: string) => SetMetadata(REQUIRED_SCOPE, scope);

/** `admin` holds every scope, and `<area>:write` holds `<area>:read`. */
export function grants(scopes: readonly string[], scope: string): boolean {
  if (scopes.includes('admin') || scopes.includes(scope)) return true;
  return scope.endsWith(':read') && scopes.includes(`${scope.slice(0, -':read'.length)}:write`);
}

/**
 * Management REST authentication and authorization: `Authorization: Bearer <api key>`, then the
 * endpoint's scope ({@link RequireScope}). Keys are stored hashed in `api_keys` (owned by
 * collection; other services read it, never write it).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new UnauthorizedException('Missing "Authorization: Bearer <api key>" header');
    const principal = await this.keys.principalOf(match[1]);
    if (!principal) throw new UnauthorizedException('Unknown, revoked or expired API key');
    const scope =
      this.reflector.getAllAndOverride<string | undefined>(REQUIRED_SCOPE, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'admin';
    if (!grants(principal.scopes, scope))
      throw new ForbiddenException(`This API key lacks the "${scope}" scope`);
    request.principal = principal;
    return true;
  }
}
