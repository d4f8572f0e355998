import { Injectable, NotFoundException } from '@nestjs/common';
import type { RetentionPolicy } from '@cdp/contracts';
import { DatabaseService } from '@cdp/service-kit';

/** A workspace's retention policy; the hourly `expire-events` job (HistoryRetentionService) applies it. */
@Injectable()
export class RetentionService {
  constructor(private readonly db: DatabaseService) {}

  async policy(workspaceId: string): Promise<RetentionPolicy> {
    const workspace = await this.db.client.workspace.findUnique({
      where: { id: workspaceId },
      select: { eventRetentionDays: true },
    });
    if (!workspace) throw new NotFoundException(`Workspace ${workspaceId} not found`);
    return { eventRetentionDays: Math.max(0, workspace.eventRetentionDays) };
  }

  async setPolicy(workspaceId: string, actor: string, policy: RetentionPolicy): Promise<RetentionPolicy> {
    return this.db.client.$transaction(async (tx) => {
      const before = await tx.workspace.findUniqueOrThrow({
        where: { id: workspaceId },
        select: { eventRetentionDays: true },
      });
      await tx.workspace.update({
        where: { id: workspaceId },
        data: { eventRetentionDays: policy.eventRetentionDays },
      });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'retention.updated',
          entityType: 'Workspace',
          entityId: workspaceId,
          before,
          after: policy,
        },
      });
      return policy;
    });
  }
}
