import { Injectable } from '@nestjs/common';
import type { CustomerRef } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import { normalizeEmail } from '../identity/identity.service';
import { MergeService } from '../merges/merge.service';

/** Finds the customer a reference names (our id or any identifier), following merges to the survivor. */
@Injectable()
export class CustomerRefResolver {
  constructor(private readonly merges: MergeService) {}

  async resolve(
    db: Prisma.TransactionClient,
    workspaceId: string,
    ref: CustomerRef,
  ): Promise<string | undefined> {
    let id = ref.id;
    if (!id && ref.identifier) {
      const value =
        ref.identifier.type === 'email' ? normalizeEmail(ref.identifier.value) : ref.identifier.value;
      const identity = await db.identity.findUnique({
        where: { workspaceId_type_value: { workspaceId, type: ref.identifier.type, value } },
        select: { customerId: true },
      });
      id = identity?.customerId;
    }
    return id ? ((await this.merges.liveCustomerId(workspaceId, id)) ?? undefined) : undefined;
  }
}
