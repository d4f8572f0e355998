import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dsnOutcome, DsnParseError, parseDsn } from './dsn-parser';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name));

describe('parseDsn (RFC 3464)', () => {
  it('reads a Postfix hard bounce: Action failed + Status 5.1.1 is a bounce of the returned message', async () => {
    const dsn = await parseDsn(fixture('postfix-bounce.eml'));
    expect(dsn.recipients).toEqual([
      {
        action: 'failed',
        status: '5.1.1',
        finalRecipient: 'nobody@example.net',
        diagnosticCode: 'smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown',
      },
    ]);
    expect(dsn.cdpMessageId).toBe('4f7c2a10-0000-4000-8000-000000000001');
    expect(dsn.originalMessageId).toBe('<abc123@cdp.local>');
    expect(dsn.arrivalDate?.toISOString()).toBe('2026-11-24T10:00:01.000Z');
    expect(dsnOutcome(dsn.recipients[0]!)).toBe('bounced');
  });

  it('does not call a delay or a 4.x.x failure a bounce', () => {
    expect(dsnOutcome({ action: 'delayed', status: '4.4.1' })).toBeUndefined();
    expect(dsnOutcome({ action: 'failed', status: '4.2.2' })).toBeUndefined();
    expect(dsnOutcome({ action: 'delivered', status: '2.0.0' })).toBe('delivered');
  });

  it('refuses an ordinary email', async () => {
    await expect(
      parseDsn('From: a@b.c\r\nTo: d@e.f\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhello\r\n'),
    ).rejects.toThrow(DsnParseError);
  });
});
