import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { CreateApiKeyRequest, RequestOf, RpcSubjects } from '@cdp/contracts';
import type { ApiKey } from '@cdp/db';
import { ApiKeys, DatabaseService, hashKey, invalidInput, type Principal } from '@cdp/service-kit';
import { newSecret } from './secrets';

/** Keys' last uses as a service reported them (`cdp-rpc.apikeys.used`). */
type ApiKeyUses = RequestOf<typeof RpcSubjects.apiKeysUsed>['uses'];

/** A management key as the API shows it: never the key or its hash, only its first characters. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Latest use any service reported (they report about once a minute). */
  lastUsedAt: string | null;
}

/**
 * The workspace's management API keys (`Authorization: Bearer`). A key is shown once, when it is
 * made, and stored only as its SHA-256 hash. Revoking is final; the last active `admin` key of a
 * workspace cannot be revoked, so a workspace never locks itself out of key management.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly db: DatabaseService,
    private readonly apiKeys: ApiKeys,
  ) {}

  async list(workspaceId: string): Promise<ApiKeyView[]> {
    const rows = await this.db.client.apiKey.findMany({
      where: { workspaceId },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(viewOf);
  }

  async create(caller: Principal, request: CreateApiKeyRequest): Promise<ApiKeyView & { key: string }> {
    const expiresAt = request.expiresAt === undefined ? null : new Date(request.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw invalidInput('/expiresAt', 'must be in the future', 'Invalid request body');
    const key = newSecret('cdp');
    const row = await this.db.client.apiKey.create({
      data: {
        workspaceId: caller.workspaceId,
        name: request.name,
        keyHash: hashKey(key),
        prefix: key.slice(0, 8),
        scopes: request.scopes,
        createdBy: `api-key:${caller.apiKeyId}`,
        expiresAt,
      },
    });
    return { ...viewOf(row), key };
  }

  /**
   * Moves the keys' `last_used_at` forward (never back: reports from several services and replicas
   * arrive in any order); keys of other workspaces are ignored. Returns how many moved.
   */
  async recordUses(workspaceId: string, uses: ApiKeyUses): Promise<number> {
    const { rowCount } = await this.db.pool.query(
      `UPDATE api_keys SET last_used_at = v.used_at
       FROM unnest($2::text[], $3::timestamptz[]) AS v(id, used_at)
       WHERE api_keys.id = v.id AND api_keys.workspace_id = $1
         AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.used_at)`,
      [workspaceId, uses.map((u) => u.apiKeyId), uses.map((u) => u.usedAt)],
    );
    return rowCount ?? 0;
  }

  async revoke(workspaceId: string, id: string): Promise<ApiKeyView> {
    const row = await this.db.client.$transaction(async (tx) => {
      // One revocation at a time per workspace, so two admins cannot revoke each other's last key.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`api-keys|${workspaceId}`}))`;
      const key = await tx.apiKey.findFirst({ where: { id, workspaceId } });
      if (!key) throw new NotFoundException(`API key ${id} not found`);
      if (key.revokedAt) return key;
      if (key.scopes.includes('admin') && isActive(key)) {
        const otherAdmins = await tx.apiKey.count({
          where: {
            workspaceId,
            id: { not: id },
            revokedAt: null,
            scopes: { has: 'admin' },
            OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
          },
        });
        if (otherAdmins === 0)
          throw new ConflictException(
            'This is the workspace\u2019s last active admin key: create another admin key before revoking it',
          );
      }
      return tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    });
    this.apiKeys.forget();
    return viewOf(row);
  }
}

function isActive(key: ApiKey): boolean {
  return !key.revokedAt && (!key.expiresAt || key.expiresAt.getTime() > Date.now());
}

function viewOf(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
