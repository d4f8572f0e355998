import { GoneException, Injectable, NotFoundException } from '@nestjs/common';
import { DatabaseService } from '@cdp/service-kit';
import { normalizeEmail } from '../identity/identity.service';
import { MergeService } from '../merges/merge.service';

export interface TimelinePage {
  items: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

/** Customer look-ups: by id, by any identifier, and the paged interaction history. */
@Injectable()
export class CustomersService {
  constructor(
    private readonly db: DatabaseService,
    private readonly merges: MergeService,
  ) {}

  /** A customer merged into another answers as the survivor; an erased one as 410 Gone. */
  async get(workspaceId: string, customerId: string) {
    const survivor = await this.merges.survivorOf(this.db.client, workspaceId, customerId);
    if (survivor?.erasedAt)
      throw new GoneException({
        statusCode: 410,
        error: 'Gone',
        message: `Customer ${customerId} was erased`,
        customerId: survivor.id,
        erasedAt: survivor.erasedAt.toISOString(),
      });
    const customer = await this.db.client.customer.findFirst({
      where: { id: survivor?.id ?? customerId, workspaceId },
      include: { identities: { select: { type: true, value: true, firstSeenAt: true, lastSeenAt: true } } },
    });
    if (!customer) throw new NotFoundException(`Customer ${customerId} not found`);
    return customer;
  }

  async findByIdentifier(workspaceId: string, type: string, value: string) {
    const normalized = type === 'email' ? normalizeEmail(value) : value;
    const identity = await this.db.client.identity.findUnique({
      where: { workspaceId_type_value: { workspaceId, type, value: normalized } },
      select: { customerId: true },
    });
    return identity ? this.get(workspaceId, identity.customerId) : null;
  }

  /** Newest first, keyset-paged on the event id so deep pages cost the same as the first. */
  async timeline(
    workspaceId: string,
    customerId: string,
    limit: number,
    cursor?: string,
  ): Promise<TimelinePage> {
    const { id } = await this.get(workspaceId, customerId);
    const events = await this.db.client.event.findMany({
      where: { workspaceId, customerId: id, ...(cursor && { id: { lt: BigInt(cursor) } }) },
      orderBy: { id: 'desc' },
      take: limit,
    });
    return {
      items: events.map((e) => ({ ...e, id: e.id.toString() })),
      nextCursor: events.length === limit ? events[events.length - 1]!.id.toString() : null,
    };
  }
}
