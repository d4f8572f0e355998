import { Injectable } from '@nestjs/common';
import type { CustomerRef } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import { normalizeEmail } from '../identity/identity.service';

const MAX_MERGE_HOPS = 10;

/** Finds the customer a reference names (our id or any identifier), following merges to the survivor. */
@Injectable()
export class CustomerRefResolver {
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
    for (let hop = 0; id && hop < MAX_MERGE_HOPS; hop++) {
      const customer = await db.customer.findFirst({
        where: { id, workspaceId },
        select: { id: true, mergedIntoId: true },
      });
      if (!customer) return undefined;
      if (!customer.mergedIntoId) return customer.id;
      id = customer.mergedIntoId;
    }
    return undefined;
  }
}
