// @cdp/db: the shared customer data model (Prisma client generated from prisma/schema.prisma),
// a client factory on the pg driver adapter, and database helpers for tests and operations.
export * from './generated/prisma/client';
export { DEFAULT_DATABASE_URL, databaseUrl, databaseName, withDatabase, redactUrl } from './config';
export { createDatabase, createPrismaClient, type CreatePrismaClientOptions, type Database } from './client';
export { createPool, inTransaction, prismaSql, type CreatePoolOptions, type Sql } from './sql';
export type { Pool } from 'pg';
export {
  createTestDatabase,
  resetDatabase,
  migrateDatabase,
  recreateDatabase,
  dropDatabase,
  PACKAGE_DIR,
  type TestDatabase,
  type ResetDatabaseOptions,
} from './test-database';
