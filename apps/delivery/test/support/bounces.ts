// Bounces for the receipts tests: a real Postfix DSN returning one ledger message, and a real SMTP
// client delivering mail the way the MTA that returns a bounce does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport, type SentMessageInfo } from 'nodemailer';

/** The Postfix bounce fixture, returning the ledger message `messageId` (its X-CDP-Message-Id). */
export function bounceFor(messageId: string): string {
  return readFileSync(join(__dirname, '../../src/receipts/__fixtures__/postfix-bounce.eml'), 'utf8').replace(
    '4f7c2a10-0000-4000-8000-000000000001',
    messageId,
  );
}

/** Delivers a raw mail over SMTP with a null reverse-path (`MAIL FROM:<>`), as bounces are sent. */
export async function deliverOverSmtp(port: number, raw: string): Promise<SentMessageInfo> {
  const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await transport.sendMail({ envelope: { from: '', to: ['bounces@mail.example-bank.test'] }, raw });
  } finally {
    transport.close();
  }
}
