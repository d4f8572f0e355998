import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DatabaseService } from '@cdp/service-kit';

/** Rows a relay claims per transaction. */
export const OUTBOX_BATCH = 100;
/** Delay before a relay looks for a row written in a transaction that has not committed yet. */
const AFTER_COMMIT_DELAY_MS = 200;

/**
 * The relay of an outbox table: rows written with their event in the changing transaction are
 * published afterwards by {@link announceBatch} (claimed FOR UPDATE SKIP LOCKED, so relays running
 * at once never take the same row; a crash between publish and commit re-publishes with the same
 * Nats-Msg-Id, which JetStream drops as a duplicate). Runs right after a change commits
 * (announceSoon / announceNow / announcePending) and every `sweepMs` for whatever a crash or a
 * NATS outage left behind.
 */
export abstract class OutboxRelay implements OnModuleInit, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private sweep?: NodeJS.Timeout;
  private readonly kicks = new Set<NodeJS.Timeout>();
  private running: Promise<number> | undefined;
  /** Set at shutdown: a change stored while the app closed starts no new run. */
  private closed = false;

  protected constructor(
    private readonly sweepMs: number,
    /** What the relay publishes, for its log lines ("Merge events"). */
    private readonly what: string,
  ) {}

  /** Publishes up to OUTBOX_BATCH pending rows and marks them; returns OUTBOX_BATCH when more may wait. */
  protected abstract announceBatch(): Promise<number>;

  onModuleInit(): void {
    this.sweep = setInterval(() => void this.runLogged(), this.sweepMs);
    this.sweep.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    for (const kick of this.kicks) clearTimeout(kick);
    this.kicks.clear();
    await this.running?.catch(() => undefined);
  }

  /** Called where a row is written inside someone else's transaction: look again once it has committed. */
  announceSoon(): void {
    const kick = setTimeout(() => {
      this.kicks.delete(kick);
      void this.runLogged();
    }, AFTER_COMMIT_DELAY_MS);
    kick.unref();
    this.kicks.add(kick);
  }

  /** Publishes pending rows now, in the background (a failure is logged; the sweep retries). */
  announceNow(): void {
    void this.runLogged();
  }

  /** Publishes every pending row; returns how many events were published. */
  async announcePending(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const published = await this.announceBatch();
      total += published;
      if (published < OUTBOX_BATCH) break;
    }
    return total;
  }

  private async runLogged(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = this.announcePending();
    try {
      await this.running;
    } catch (error) {
      this.logger.warn(`${this.what} not announced yet, will retry: ${String(error)}`);
    } finally {
      this.running = undefined;
    }
  }
}

/** An outbox table whose rows are each announced once, marked in their `announced_at` column. */
export interface OutboxTable {
  /** Table name (a constant, never input). */
  name: string;
  /** Columns the event needs besides `id` (SQL select list, constants). */
  columns: string;
  /** Column the rows are announced in the order of. */
  orderBy: string;
}

/**
 * The relay of an {@link OutboxTable}: claims the rows not announced yet, publishes each one's
 * event ({@link publishRow}, with a msgId naming the row) and marks it, in one transaction.
 */
export abstract class AnnouncedRowsRelay<Row extends { id: string }> extends OutboxRelay {
  protected constructor(
    private readonly db: DatabaseService,
    private readonly table: OutboxTable,
    sweepMs: number,
    what: string,
  ) {
    super(sweepMs, what);
  }

  /** Publishes one row's event; a msgId naming the row makes a re-publish after a crash a duplicate. */
  protected abstract publishRow(row: Row): Promise<unknown>;

  protected async announceBatch(): Promise<number> {
    const { name, columns, orderBy } = this.table;
    return this.db.client.$transaction(
      async (tx) => {
        const rows = await tx.$queryRawUnsafe<Row[]>(
          `SELECT id, ${columns} FROM ${name} WHERE announced_at IS NULL
          ORDER BY ${orderBy} LIMIT ${OUTBOX_BATCH} FOR UPDATE SKIP LOCKED`,
        );
        for (const row of rows) {
          await this.publishRow(row);
          await tx.$executeRawUnsafe(`UPDATE ${name} SET announced_at = now() WHERE id = $1`, row.id);
        }
        return rows.length;
      },
      { timeout: 60_000 },
    );
  }
}
