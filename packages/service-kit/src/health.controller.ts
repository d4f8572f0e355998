import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from './database.service';
import { RedisService } from './redis.service';

/** Liveness says the process runs; readiness says it can serve (Postgres, Redis and NATS answer). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly db: DatabaseService,
    private readonly redis: RedisService,
    private readonly nats: JetStreamPublisher,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.probe('postgres', () => this.db.ping()),
      () => this.probe('redis', () => this.redis.ping()),
      () => this.probe('nats', () => this.nats.ping()),
    ]);
  }

  private async probe(key: string, ping: () => Promise<unknown>) {
    const session = this.indicator.check(key);
    try {
      await ping();
      return session.up();
    } catch (e) {
      return session.down({ message: e instanceof Error ? e.message : String(e) });
    }
  }
}
