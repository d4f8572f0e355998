import { Injectable } from '@nestjs/common';
import type { CustomerRef } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import { normalizeEmail } from '../identity/identity.service';
import { MergeService } from '../merges/merge.service';
import { lockAttachableCustomer } from './attachable-customer';

/**
 * Finds the customer a reference names (our id or any identifier), following merges to the
 * survivor; none if it is erased. The found customer stays share-locked until the caller's
 * transaction ends.
 */
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
    const live = id ? await this.merges.liveCustomerId(workspaceId, id) : null;
    // The caller writes rows for it in this transaction: lock it against an erasure meanwhile.
    return live && (await lockAttachableCustomer(db, workspaceId, live)) ? live : undefined;
  }
}
