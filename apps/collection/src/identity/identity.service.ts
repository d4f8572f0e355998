import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Prisma } from '@cdp/db';

export interface Identifier {
  type: string;
  value: string;
}

/** Identifier types in order of trust: the first one found decides which customer a call belongs to. */
const PRIORITY = ['user_id', 'email', 'phone', 'device_id', 'anonymous_id'];

/** Pseudonymous customer code: random, carries no personal meaning (Crockford base32, 16 chars). */
export function newCustomerCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(16);
  let code = 'C';
  for (const b of bytes.subarray(0, 15)) code += alphabet[b % 32];
  return code;
}

/** Emails identify people case-insensitively in practice; store and match them trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function identifiersOf(call: {
  userId?: string;
  anonymousId?: string;
  traits?: Record<string, unknown>;
}): Identifier[] {
  const ids: Identifier[] = [];
  if (call.userId) ids.push({ type: 'user_id', value: call.userId });
  if (call.anonymousId) ids.push({ type: 'anonymous_id', value: call.anonymousId });
  const email = call.traits?.email;
  if (typeof email === 'string' && email.includes('@'))
    ids.push({ type: 'email', value: normalizeEmail(email) });
  return ids;
}

/**
 * Links a call's identifiers to one customer inside the caller's transaction. Advisory locks on
 * the identifiers make concurrent first calls of one new person create one customer.
 * Merging two existing customers that turn out to be one person is not done here yet.
 */
@Injectable()
export class IdentityService {
  async resolve(
    tx: Prisma.TransactionClient,
    workspaceId: string,
    identifiers: Identifier[],
    sourceId: string | undefined,
    seenAt: Date,
  ) {
    const keys = identifiers.map((i) => `${workspaceId}|${i.type}|${i.value}`).sort();
    for (const key of keys) await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;

    const known = await tx.identity.findMany({
      where: { workspaceId, OR: identifiers.map((i) => ({ type: i.type, value: i.value })) },
      select: { type: true, value: true, customerId: true },
    });
    known.sort((a, b) => PRIORITY.indexOf(a.type) - PRIORITY.indexOf(b.type));
    const customer = known[0]
      ? await tx.customer.update({ where: { id: known[0].customerId }, data: { lastSeenAt: seenAt } })
      : await tx.customer.create({
          data: {
            workspaceId,
            customerCode: newCustomerCode(),
            lifecycleStage: 'potential',
            firstSeenAt: seenAt,
            lastSeenAt: seenAt,
          },
        });
    const unclaimed = identifiers.filter((i) => !known.some((k) => k.type === i.type && k.value === i.value));
    if (unclaimed.length)
      await tx.identity.createMany({
        data: unclaimed.map((i) => ({
          workspaceId,
          customerId: customer.id,
          type: i.type,
          value: i.value,
          sourceId,
          firstSeenAt: seenAt,
          lastSeenAt: seenAt,
        })),
        skipDuplicates: true,
      });
    return customer;
  }
}
