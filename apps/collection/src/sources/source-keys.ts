import { Injectable, Logger } from '@nestjs/common';
import { DatabaseService, TtlCache, hashKey } from '@cdp/service-kit';

export interface SourceContext {
  workspaceId: string;
  sourceId: string;
  sourceKind: string;
}

/** How often a source's `last_event_at` is written, at most, per process. */
const LAST_EVENT_EVERY_MS = 60_000;

/** A cached write key's source and when the key stops working by itself (epoch ms). */
interface CachedSource {
  source: SourceContext;
  expiresAt?: number;
}

/**
 * Write keys to their sources, cached for 30 s by the key as sent (hashing it costs more than the
 * rest of the check on every tracking call). A source's current key, or the key its last rotation
 * replaced until that one expires. A key disabled or rotated through another replica stops working
 * within the 30 s; through this process at once ({@link forget}).
 */
@Injectable()
export class SourceKeys {
  private readonly logger = new Logger(SourceKeys.name);
  private readonly sources = new TtlCache<CachedSource | null>(30_000);
  /** When this process last wrote each source's `last_event_at` (epoch ms). */
  private readonly lastEventWritten = new Map<string, number>();

  constructor(private readonly db: DatabaseService) {}

  async sourceOf(writeKey: string): Promise<SourceContext | null> {
    const cached = await this.sources.get(writeKey, () => this.load(hashKey(writeKey)));
    if (!cached || (cached.expiresAt !== undefined && cached.expiresAt <= Date.now())) return null;
    this.noteCall(cached.source.sourceId);
    return cached.source;
  }

  /** Drops every cached key, after this process changed a source's keys or disabled it. */
  forget(): void {
    this.sources.clear();
  }

  /**
   * Records that the source sent something (`last_event_at`), at most once a minute per process and
   * without waiting: a failed write only leaves the time older.
   */
  private noteCall(sourceId: string): void {
    const now = Date.now();
    if ((this.lastEventWritten.get(sourceId) ?? 0) > now - LAST_EVENT_EVERY_MS) return;
    this.lastEventWritten.set(sourceId, now);
    this.db.pool
      .query('UPDATE sources SET last_event_at = now() WHERE id = $1', [sourceId])
      .catch((error: Error) =>
        this.logger.warn(`last_event_at of source ${sourceId} not written: ${error.message}`),
      );
  }

  private async load(writeKeyHash: string): Promise<CachedSource | null> {
    const row = await this.db.client.source.findFirst({
      where: { OR: [{ writeKeyHash }, { previousWriteKeyHash: writeKeyHash }] },
    });
    if (!row?.enabled) return null;
    const source = { workspaceId: row.workspaceId, sourceId: row.id, sourceKind: row.kind };
    if (row.writeKeyHash === writeKeyHash) return { source };
    const expiresAt = row.previousWriteKeyExpiresAt?.getTime() ?? 0;
    return expiresAt > Date.now() ? { source, expiresAt } : null;
  }
}
