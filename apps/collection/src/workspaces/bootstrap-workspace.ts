import type { PrismaClient } from '@cdp/db';
import { hashKey } from '@cdp/service-kit';
import { newSecret } from '../sources/secrets';

export interface BootstrapResult {
  workspaceId: string;
  workspaceSlug: string;
  sourceId: string;
  writeKey: string;
  apiKey: string;
}

export class BootstrapError extends Error {}

/**
 * Creates (or reuses, by slug) a workspace, adds a server source with a new write key and a
 * management API key. Keys are returned once and stored only as SHA-256 hashes.
 */
export async function bootstrapWorkspace(
  db: PrismaClient,
  slug: string,
  name = slug,
  sourceName = 'default',
): Promise<BootstrapResult> {
  const writeKey = newSecret('wk');
  const apiKey = newSecret('cdp');
  return db.$transaction(async (tx) => {
    const workspace = await tx.workspace.upsert({ where: { slug }, create: { slug, name }, update: {} });
    if (
      await tx.source.findFirst({
        where: { workspaceId: workspace.id, name: sourceName },
        select: { id: true },
      })
    )
      throw new BootstrapError(
        `workspace "${slug}" already has a source named "${sourceName}": choose another with --source <name>`,
      );
    const source = await tx.source.create({
      data: {
        workspaceId: workspace.id,
        name: sourceName,
        kind: 'server',
        writeKeyHash: hashKey(writeKey),
        writeKeyPrefix: writeKey.slice(0, 8),
      },
    });
    await tx.apiKey.create({
      data: {
        workspaceId: workspace.id,
        name: `${sourceName} bootstrap key`,
        keyHash: hashKey(apiKey),
        prefix: apiKey.slice(0, 8),
        scopes: ['admin'],
      },
    });
    return { workspaceId: workspace.id, workspaceSlug: slug, sourceId: source.id, writeKey, apiKey };
  });
}
