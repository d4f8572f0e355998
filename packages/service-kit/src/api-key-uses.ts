import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { RpcSubjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { ApiKeys } from './api-key.guard';
import type { BaseConfig } from './config';
import { SERVICE_CONFIG } from './tokens';

/** Most uses in one report (the contract's limit). */
const USES_PER_REPORT = 1000;

/**
 * Reports the management API keys this process saw used to collection, which owns `api_keys` and
 * keeps each key's `last_used_at`: every API_KEY_USE_REPORT_MS and once more at shutdown. A report
 * that cannot be delivered (collection or NATS down) is kept for the next one. A last use is a
 * hint for key hygiene, not a record: a process killed between reports loses only precision.
 */
@Injectable()
export class ApiKeyUseReporter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUseReporter.name);
  private timer?: NodeJS.Timeout;
  private reporting: Promise<void> = Promise.resolve();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    private readonly keys: ApiKeys,
    private readonly publisher: JetStreamPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.report(), this.config.API_KEY_USE_REPORT_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.report();
  }

  /** Sends the uses seen since the last report, after any report still running. */
  report(): Promise<void> {
    this.reporting = this.reporting.then(() => this.send());
    return this.reporting;
  }

  private async send(): Promise<void> {
    for (const [workspaceId, uses] of this.keys.takeUses()) {
      for (let i = 0; i < uses.length; i += USES_PER_REPORT) {
        const chunk = uses.slice(i, i + USES_PER_REPORT);
        try {
          await this.publisher.request(RpcSubjects.apiKeysUsed, {
            workspaceId,
            uses: chunk.map((u) => ({ apiKeyId: u.apiKeyId, usedAt: u.usedAt.toISOString() })),
          });
        } catch (error) {
          this.keys.restoreUses(workspaceId, chunk);
          this.logger.warn(
            `API key uses of workspace ${workspaceId} not reported, kept for the next report: ${(error as Error).message}`,
          );
        }
      }
    }
  }
}
