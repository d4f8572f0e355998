import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { register } from 'prom-client';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { createService, hashKey, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../../src/app.module';
import { DeliveryConfigSchema } from '../../src/config';

export function secretKeySpec(keyId: string): string {
  return `${keyId}:${randomBytes(32).toString('base64')}`;
}

export interface DeliveryHarness {
  app: NestFastifyApplication;
  prisma: PrismaClient;
  workspaceId: string;
  apiKey: string;
  /** Starts the app again on the same database with other env (e.g. rotated keys). */
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** The delivery app in-process on its own database and NATS prefix, with one workspace and API key. */
export async function startDelivery(label: string, env: Record<string, string>): Promise<DeliveryHarness> {
  const database: TestDatabase = await createTestDatabase(
    `cdp_test_${label}_${randomBytes(4).toString('hex')}`,
  );
  const prisma = createPrismaClient(database.url, { max: 2 });
  const workspace = await prisma.workspace.create({ data: { slug: `ws-${label}`, name: label } });
  const apiKey = `cdp_${randomBytes(16).toString('hex')}`;
  await prisma.apiKey.create({
    data: {
      workspaceId: workspace.id,
      name: 'test',
      keyHash: hashKey(apiKey),
      prefix: apiKey.slice(0, 8),
      scopes: ['admin'],
    },
  });

  let app: NestFastifyApplication;
  const start = async (extra: Record<string, string>) => {
    const config = loadConfig(DeliveryConfigSchema, {
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '3',
      ...env,
      ...extra,
    });
    app = await createService(
      { service: 'delivery', configSchema: DeliveryConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.startAllMicroservices();
  };
  await start({});

  const harness: DeliveryHarness = {
    get app() {
      return app;
    },
    prisma,
    workspaceId: workspace.id,
    apiKey,
    async restart(extra = {}) {
      await app.close();
      // The default metrics live in prom-client's global registry; a second app registers them again.
      register.clear();
      await start(extra);
    },
    async close() {
      await app?.close();
      await prisma.$disconnect();
      await database.drop();
    },
  };
  return harness;
}
