import type { Prisma } from '@cdp/db';

/**
 * Whether rows may be attached to this customer in the caller's transaction: it exists in the
 * workspace and is not erased. Holds a share lock on its row until the transaction ends, so an
 * erasure (which locks the row for update before it deletes anything) either waits for this
 * transaction and then deletes what it wrote, or has committed and the re-checked row no longer
 * matches.
 */
export async function lockAttachableCustomer(
  tx: Prisma.TransactionClient,
  workspaceId: string,
  customerId: string,
): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM customers
    WHERE id = ${customerId} AND workspace_id = ${workspaceId} AND erased_at IS NULL
    FOR SHARE`;
  return rows.length > 0;
}
