import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { IdentifyCall, PostgresConnectorConfig, TrackCall, validate } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import {
  closeWithin,
  DatabaseService,
  queueOptions,
  SERVICE_CONFIG,
  type BaseConfig,
} from '@cdp/service-kit';
import { TrackingService } from '../tracking/tracking.service';
import { mapWebhook } from '../webhooks/webhook-mapping';
import { pullPage, type PullCursor } from './postgres-pull';

/** Never rename without a migration plan: scheduled jobs live under this name in Redis. */
export const CONNECTORS_QUEUE = 'collection-connectors';

export interface ConnectorState {
  after?: PullCursor;
  lastRunAt?: string;
  lastPulled?: number;
  totalPulled?: number;
  rejected?: number;
  error?: string;
}

interface SourceSettings {
  connector?: PostgresConnectorConfig;
  connectorState?: ConnectorState;
  [key: string]: unknown;
}

/**
 * Incremental pull connectors from operational PostgreSQL tables, on a BullMQ schedule per
 * source. Each run reads pages after the stored cursor, accepts the mapped rows like tracking
 * calls (durable on JetStream), and only then moves the cursor: a crash re-reads a page, and
 * the mapping's messageId keeps the re-read rows from being stored twice.
 */
@Injectable()
export class ConnectorsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ConnectorsService.name);
  private readonly options: ReturnType<typeof queueOptions>;
  private readonly queue: Queue;
  private worker?: Worker;

  constructor(
    @Inject(SERVICE_CONFIG) config: BaseConfig,
    private readonly db: DatabaseService,
    private readonly tracking: TrackingService,
  ) {
    this.options = queueOptions(config);
    this.queue = new Queue(CONNECTORS_QUEUE, this.options);
  }

  onModuleInit(): void {
    this.worker = new Worker<{ workspaceId: string; sourceId: string }>(
      CONNECTORS_QUEUE,
      (job) => this.run(job.data.workspaceId, job.data.sourceId).then(() => undefined),
      {
        ...this.options,
        concurrency: 2,
      },
    );
    this.worker.on('failed', (job, e) =>
      this.logger.warn(`connector run ${job?.id ?? '?'} failed: ${e.message}`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    // A pull still running after 5 s is left to BullMQ's stalled-job check (it resumes from its cursor).
    if (this.worker) await closeWithin(this.worker, 'connector worker', 5000);
    await closeWithin(this.queue, 'connector queue');
  }

  private async settings(workspaceId: string, sourceId: string): Promise<SourceSettings> {
    const source = await this.db.client.source.findFirst({
      where: { id: sourceId, workspaceId },
      select: { settings: true },
    });
    if (!source) throw new NotFoundException(`Source ${sourceId} not found`);
    return (source.settings ?? {}) as SourceSettings;
  }

  private async save(sourceId: string, settings: SourceSettings): Promise<void> {
    await this.db.client.source.update({
      where: { id: sourceId },
      data: { settings: settings as Prisma.InputJsonValue },
    });
  }

  async configure(workspaceId: string, sourceId: string, connector: PostgresConnectorConfig) {
    const settings = await this.settings(workspaceId, sourceId);
    await this.save(sourceId, { ...settings, connector });
    await this.queue.upsertJobScheduler(
      `pull:${sourceId}`,
      { every: connector.intervalSeconds * 1000 },
      { name: 'pull', data: { workspaceId, sourceId } },
    );
    return this.describe(workspaceId, sourceId);
  }

  async describe(workspaceId: string, sourceId: string) {
    const { connector, connectorState } = await this.settings(workspaceId, sourceId);
    if (!connector) throw new NotFoundException(`Source ${sourceId} has no connector`);
    return { connector, state: connectorState ?? {} };
  }

  /** Queues a run now (besides the schedule). */
  async runSoon(workspaceId: string, sourceId: string): Promise<void> {
    await this.describe(workspaceId, sourceId);
    await this.queue.add('pull', { workspaceId, sourceId }, { removeOnComplete: 100, removeOnFail: 100 });
  }

  async run(workspaceId: string, sourceId: string): Promise<ConnectorState> {
    const settings = await this.settings(workspaceId, sourceId);
    const config = settings.connector;
    if (!config) return {};
    const state: ConnectorState = {
      ...settings.connectorState,
      lastRunAt: new Date().toISOString(),
      lastPulled: 0,
    };
    delete state.error;
    const url = process.env[config.urlEnv];
    try {
      if (!url) throw new Error(`environment variable ${config.urlEnv} is not set in the collection service`);
      const source = { workspaceId, sourceId, sourceKind: 'operational_db' };
      for (;;) {
        const page = await pullPage(url, config, state.after);
        for (const { row, key } of page.rows) {
          const [mapped = {}] = mapWebhook({ ...config.mapping }, row);
          // Without a mapped messageId, the row's (id, cursor) names this version of the row.
          mapped.messageId ??= `pull-${sourceId}-${key.id}-${key.cursor}`;
          const checked =
            config.mapping.type === 'identify' ? validate(IdentifyCall, mapped) : validate(TrackCall, mapped);
          if (!checked.ok || (checked.value.userId === undefined && checked.value.anonymousId === undefined))
            state.rejected = (state.rejected ?? 0) + 1;
          else await this.tracking.accept(source, { ...checked.value, type: config.mapping.type });
          state.after = key;
        }
        state.lastPulled = (state.lastPulled ?? 0) + page.rows.length;
        state.totalPulled = (state.totalPulled ?? 0) + page.rows.length;
        await this.save(sourceId, { ...(await this.settings(workspaceId, sourceId)), connectorState: state });
        if (page.rows.length < (config.batchSize ?? 1000)) break;
      }
    } catch (e) {
      state.error = (e as Error).message;
      await this.save(sourceId, { ...(await this.settings(workspaceId, sourceId)), connectorState: state });
      throw e;
    }
    return state;
  }
}
