/**
 * The ledger's part of an erasure: on cdp.customer.erased, messages not sent yet are cancelled
 * (failed, with their status published), every message of the customer loses its address and
 * provider error, and its dead letters (which hold the whole job) are deleted; other customers'
 * rows stay as they were.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { NATS_URL, waitFor } from '@cdp/testing';
import { ERASED_RECIPIENT } from '../src/messages/customer-erasure.service';
import type { Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

describe('customer erasure in the delivery ledger', () => {
  const run = new MessagesRun('dqerase');
  let db: PrismaClient;
  let tenant: Tenant;
  let nc: NatsConnection;
  let collection: JetStreamPublisher;

  beforeAll(async () => {
    let smtpPort: number;
    ({ db, tenant, smtpPort } = await run.open(2));
    nc = await connect({ servers: NATS_URL });
    await run.startTrackedApp({ SMTP_PORT: String(smtpPort) });
    collection = new JetStreamPublisher({ servers: [NATS_URL], prefix: run.prefix, service: 'collection' });
    await collection.connect();
  });

  afterAll(() =>
    run.close(async () => {
      await run.stopApps();
      await collection?.close();
      await nc?.close();
    }),
  );

  const message = async (
    customerId: string,
    status: 'queued' | 'sent' | 'failed',
    error: string | null = null,
  ) => {
    const id = randomUUID();
    await db.message.create({
      data: {
        id,
        idempotencyKey: `erase:${id}`,
        workspaceId: tenant.workspaceId,
        customerId,
        channel: 'email',
        recipient: `${id}@example.com`,
        status,
        error,
      },
    });
    return id;
  };

  const statusEvents = () => run.statusEvents(nc, tenant.workspaceId);

  it('cancels what is not sent, removes addresses and dead letters, and leaves other customers alone', async () => {
    const [erased, other] = tenant.customerIds as [string, string];
    const queued = await message(erased, 'queued');
    const sent = await message(erased, 'sent');
    const bounced = await message(erased, 'failed', `550 5.1.1 <${erased}@example.com>: no such user`);
    await db.deadLetter.create({
      data: {
        workspaceId: tenant.workspaceId,
        messageId: bounced,
        queue: 'delivery-email',
        reason: 'gave up',
        attempts: 5,
        payload: { to: 'someone@example.com', html: '<p>Hello</p>' },
      },
    });
    const untouched = await message(other, 'queued');

    await collection.publish(
      Subjects.customerErased,
      {
        workspaceId: tenant.workspaceId,
        customerId: erased,
        customerCode: 'C-ERASED',
        erasedIds: [erased],
        erasedAt: new Date().toISOString(),
      },
      { msgId: `customer.erased:${erased}` },
    );

    const rows = await waitFor('the ledger erased', async () => {
      const found = await db.message.findMany({ where: { customerId: erased } });
      return found.every((m) => m.recipient === ERASED_RECIPIENT) ? found : undefined;
    });
    const byId = new Map(rows.map((m) => [m.id, m]));
    expect(byId.get(queued)).toMatchObject({ status: 'failed', error: expect.stringMatching(/erased/) });
    expect(byId.get(sent)).toMatchObject({ status: 'sent', error: null });
    expect(byId.get(bounced)).toMatchObject({ status: 'failed', error: null });
    expect(await db.deadLetter.count({ where: { messageId: bounced } })).toBe(0);
    expect(await db.message.findUniqueOrThrow({ where: { id: untouched } })).toMatchObject({
      status: 'queued',
      recipient: `${untouched}@example.com`,
    });
    await waitFor('the cancellation announced', async () => (await statusEvents()).get(queued) === 'failed');
  });
});
