import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { CreateSourceRequest, RotateWriteKeyRequest, UpdateSourceRequest } from '@cdp/contracts';
import { Prisma, type Source } from '@cdp/db';
import { DatabaseService, hashKey } from '@cdp/service-kit';
import { newSecret } from './secrets';
import { SourceKeys } from './source-keys';

/** How long a replaced write key keeps working when the rotation does not say. */
const DEFAULT_PREVIOUS_KEY_SECONDS = 24 * 3600;

/** A source as the API shows it: never a key or a hash, only the key's first characters. */
export interface SourceView {
  id: string;
  name: string;
  kind: string;
  description: string | null;
  enabled: boolean;
  writeKeyPrefix: string;
  /** Until when the key the last rotation replaced still works; null: no such key. */
  previousKeyValidUntil: string | null;
  /** When the source last called the tracking API (written at most once a minute). */
  lastEventAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * The sources of a workspace (web, app, branch, webhook, ...) and their write keys. A key is shown
 * once, when it is made, and stored only as its SHA-256 hash.
 */
@Injectable()
export class SourcesService {
  constructor(
    private readonly db: DatabaseService,
    private readonly keys: SourceKeys,
  ) {}

  async list(workspaceId: string): Promise<SourceView[]> {
    const rows = await this.db.client.source.findMany({
      where: { workspaceId },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(viewOf);
  }

  async get(workspaceId: string, id: string): Promise<SourceView> {
    return viewOf(await this.find(workspaceId, id));
  }

  async create(
    workspaceId: string,
    request: CreateSourceRequest,
  ): Promise<SourceView & { writeKey: string }> {
    const writeKey = newSecret('wk');
    const row = await this.uniqueName(request.name, () =>
      this.db.client.source.create({
        data: {
          workspaceId,
          name: request.name,
          kind: request.kind,
          description: request.description ?? null,
          writeKeyHash: hashKey(writeKey),
          writeKeyPrefix: writeKey.slice(0, 8),
        },
      }),
    );
    return { ...viewOf(row), writeKey };
  }

  async update(workspaceId: string, id: string, request: UpdateSourceRequest): Promise<SourceView> {
    await this.find(workspaceId, id);
    const row = await this.uniqueName(request.name ?? '', () =>
      this.db.client.source.update({
        where: { id },
        data: {
          ...(request.name !== undefined && { name: request.name }),
          ...(request.description !== undefined && { description: request.description }),
          ...(request.enabled !== undefined && { enabled: request.enabled }),
        },
      }),
    );
    if (request.enabled !== undefined) this.keys.forget();
    return viewOf(row);
  }

  /**
   * A new write key for the source. The one it replaces keeps working for `previousKeyValidSeconds`
   * (so every SDK can be redeployed); a key replaced earlier stops at once.
   */
  async rotate(
    workspaceId: string,
    id: string,
    request: RotateWriteKeyRequest,
  ): Promise<SourceView & { writeKey: string }> {
    const current = await this.find(workspaceId, id);
    const graceSeconds = request.previousKeyValidSeconds ?? DEFAULT_PREVIOUS_KEY_SECONDS;
    const writeKey = newSecret('wk');
    const row = await this.db.client.source.update({
      where: { id },
      data: {
        writeKeyHash: hashKey(writeKey),
        writeKeyPrefix: writeKey.slice(0, 8),
        previousWriteKeyHash: graceSeconds > 0 ? current.writeKeyHash : null,
        previousWriteKeyExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null,
      },
    });
    this.keys.forget();
    return { ...viewOf(row), writeKey };
  }

  private async find(workspaceId: string, id: string): Promise<Source> {
    const row = await this.db.client.source.findFirst({ where: { id, workspaceId } });
    if (!row) throw new NotFoundException(`Source ${id} not found`);
    return row;
  }

  private async uniqueName(name: string, write: () => Promise<Source>): Promise<Source> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')
        throw new ConflictException(`The workspace already has a source named "${name}"`);
      throw error;
    }
  }
}

function viewOf(row: Source): SourceView {
  const previousValid =
    row.previousWriteKeyExpiresAt && row.previousWriteKeyExpiresAt.getTime() > Date.now()
      ? row.previousWriteKeyExpiresAt.toISOString()
      : null;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    description: row.description,
    enabled: row.enabled,
    writeKeyPrefix: row.writeKeyPrefix,
    previousKeyValidUntil: previousValid,
    lastEventAt: row.lastEventAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
