import { GoneException, Injectable, NotFoundException } from '@nestjs/common';
import type { RetentionPolicy, RetentionPolicyChange } from '@cdp/contracts';
import { DatabaseService } from '@cdp/service-kit';
import { MergeService } from '../merges/merge.service';

const POLICY = { eventRetentionDays: true, inactiveCustomerRetentionDays: true } as const;

/** Values below 1 (possible in the column) mean "forever", shown as 0. */
function asPolicy(row: RetentionPolicy): RetentionPolicy {
  return {
    eventRetentionDays: Math.max(0, row.eventRetentionDays),
    inactiveCustomerRetentionDays: Math.max(0, row.inactiveCustomerRetentionDays),
  };
}

/**
 * A workspace's retention policy: the hourly `expire-events` job (HistoryRetentionService) and the
 * hourly disposal (DisposalService) apply it.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly db: DatabaseService,
    private readonly merges: MergeService,
  ) {}

  async policy(workspaceId: string): Promise<RetentionPolicy> {
    const workspace = await this.db.client.workspace.findUnique({
      where: { id: workspaceId },
      select: POLICY,
    });
    if (!workspace) throw new NotFoundException(`Workspace ${workspaceId} not found`);
    return asPolicy(workspace);
  }

  async setPolicy(
    workspaceId: string,
    actor: string,
    change: RetentionPolicyChange,
  ): Promise<RetentionPolicy> {
    return this.db.client.$transaction(async (tx) => {
      const before = await tx.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: POLICY });
      const after = await tx.workspace.update({ where: { id: workspaceId }, data: change, select: POLICY });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'retention.updated',
          entityType: 'Workspace',
          entityId: workspaceId,
          before,
          after,
        },
      });
      return asPolicy(after);
    });
  }

  /**
   * Sets when a customer is disposed of (the hourly disposal erases it once the time has passed).
   * A merged id sets it on its survivor, the live customer.
   */
  async setCustomerExpiry(workspaceId: string, customerId: string, expiresAt: Date | null, actor: string) {
    const survivor = await this.merges.survivorOf(this.db.client, workspaceId, customerId);
    if (!survivor) throw new NotFoundException(`Customer ${customerId} not found`);
    if (survivor.erasedAt) throw new GoneException(`Customer ${customerId} was erased`);
    return this.db.client.$transaction(async (tx) => {
      const before = await tx.customer.findUniqueOrThrow({
        where: { id: survivor.id },
        select: { retentionExpiresAt: true },
      });
      await tx.customer.update({ where: { id: survivor.id }, data: { retentionExpiresAt: expiresAt } });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'customer.retention_set',
          entityType: 'Customer',
          entityId: survivor.id,
          before: { retentionExpiresAt: before.retentionExpiresAt?.toISOString() ?? null },
          after: { retentionExpiresAt: expiresAt?.toISOString() ?? null },
        },
      });
      return { customerId: survivor.id, retentionExpiresAt: expiresAt?.toISOString() ?? null };
    });
  }
}
