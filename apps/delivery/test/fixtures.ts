import { randomUUID } from 'node:crypto';
import { createPrismaClient, type PrismaClient } from '@cdp/db';
import { hashKey } from '@cdp/service-kit';

export interface Tenant {
  workspaceId: string;
  apiKey: string;
  customerIds: string[];
}

/** A workspace with an API key and `customers` customers, written straight to the test database. */
export async function createTenant(db: PrismaClient, customers: number): Promise<Tenant> {
  const workspace = await db.workspace.create({
    data: { slug: `ws-${randomUUID().slice(0, 8)}`, name: 'Delivery test' },
  });
  const apiKey = `cdp_test_${randomUUID()}`;
  await db.apiKey.create({
    data: {
      workspaceId: workspace.id,
      name: 'test',
      keyHash: hashKey(apiKey),
      prefix: apiKey.slice(0, 12),
      scopes: ['admin'],
    },
  });
  const customerIds = Array.from({ length: customers }, () => randomUUID());
  await db.customer.createMany({
    data: customerIds.map((id, i) => ({
      id,
      workspaceId: workspace.id,
      customerCode: `C${String(i).padStart(15, '0')}`,
    })),
  });
  return { workspaceId: workspace.id, apiKey, customerIds };
}

export function openDatabase(url: string): PrismaClient {
  return createPrismaClient(url);
}
