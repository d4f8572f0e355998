import { Injectable, Logger } from '@nestjs/common';
import {
  SendGridEventBatch,
  TwilioStatusCallback,
  type ReceiptsResult,
  type SendGridEvent,
} from '@cdp/contracts';
import { invalidInput, parseBody } from '@cdp/service-kit';
import { DsnParseError, dsnOutcome, parseDsn } from './dsn-parser';
import { ReceiptsService, type MessageRef, type Receipt, type ReceiptStatus } from './receipts.service';

/** Provider names the channel adapters write into `messages.provider`; receipts match on them. */
export const PROVIDERS = { sendgrid: 'sendgrid', twilio: 'twilio', smtp: 'smtp' } as const;

/** SendGrid event → ledger status; `processed` and `deferred` say nothing new ("sent" is ours). */
const SENDGRID: Record<string, ReceiptStatus> = {
  delivered: 'delivered',
  bounce: 'bounced',
  dropped: 'failed',
  spamreport: 'complained',
  open: 'opened',
  click: 'clicked',
};

/** Twilio MessageStatus → ledger status; queued/sending/sent/accepted/scheduled say nothing new. */
const TWILIO: Record<string, ReceiptStatus> = {
  delivered: 'delivered',
  undelivered: 'bounced',
  failed: 'failed',
  read: 'opened',
};

/** Turns each provider's receipt format into ledger receipts. Signatures are checked before this runs. */
@Injectable()
export class ProviderReceiptsService {
  private readonly logger = new Logger(ProviderReceiptsService.name);

  constructor(private readonly receipts: ReceiptsService) {}

  async sendGrid(body: unknown, workspaceId: string | undefined): Promise<ReceiptsResult> {
    const events = parseBody(SendGridEventBatch, body);
    const result: ReceiptsResult = { applied: 0, unmatched: 0, ignored: 0 };
    for (const event of events) {
      const status = SENDGRID[event.event];
      const ref = this.sendGridRef(event, workspaceId);
      if (!status || !ref) {
        result.ignored++;
        continue;
      }
      const reason = [event.type, event.reason ?? event.response, event.status].filter(Boolean).join(': ');
      const applied = await this.receipts.apply(ref, {
        status,
        at: new Date(event.timestamp * 1000),
        ...(reason && { reason: reason.slice(0, 1000) }),
        // A `bounce` of type `blocked` is a soft bounce (the receiving server refused for now).
        ...(event.event === 'bounce' && event.type !== 'blocked' && { recipientGone: true }),
      });
      result[applied ? 'applied' : 'unmatched']++;
    }
    return result;
  }

  /** `messageId` is our ledger id from the signed callback URL (messages sent since it carries one). */
  async twilio(body: unknown, messageId?: string): Promise<ReceiptsResult> {
    const callback = parseBody(TwilioStatusCallback, body);
    const status = TWILIO[callback.MessageStatus];
    if (!status) return { applied: 0, unmatched: 0, ignored: 1 };
    const applied = await this.receipts.apply(
      messageId ? { messageId } : { provider: PROVIDERS.twilio, providerMessageId: callback.MessageSid },
      {
        status,
        at: new Date(),
        ...(callback.ErrorCode && { reason: `twilio error ${callback.ErrorCode}` }),
      },
    );
    return { applied: applied ? 1 : 0, unmatched: applied ? 0 : 1, ignored: 0 };
  }

  async dsn(body: unknown): Promise<ReceiptsResult> {
    // message/rfc822 arrives as bytes; a pipe that labels it text/plain gets Fastify's string.
    const raw = typeof body === 'string' ? Buffer.from(body) : body;
    if (!Buffer.isBuffer(raw) || raw.length === 0)
      throw invalidInput('/', 'a raw email with Content-Type: message/rfc822', 'Invalid DSN');
    let report;
    try {
      report = await parseDsn(raw);
    } catch (e) {
      if (e instanceof DsnParseError) throw invalidInput('/', e.message, 'Invalid DSN');
      throw e;
    }
    const recipient = report.recipients.find((r) => dsnOutcome(r));
    const status = recipient && dsnOutcome(recipient);
    const ref: MessageRef | undefined = report.cdpMessageId
      ? { messageId: report.cdpMessageId }
      : report.originalMessageId
        ? { provider: PROVIDERS.smtp, providerMessageId: report.originalMessageId }
        : undefined;
    if (!recipient || !status) return { applied: 0, unmatched: 0, ignored: 1 };
    if (!ref) {
      this.logger.warn('DSN without X-CDP-Message-Id or Message-ID of the original: cannot match it');
      return { applied: 0, unmatched: 1, ignored: 0 };
    }
    const receipt: Receipt = {
      status,
      at: new Date(),
      reason: [recipient.status, recipient.diagnosticCode].filter(Boolean).join(' ').slice(0, 1000),
      // A DSN counts as bounced only for a permanent (5.x.x) failure: the address is gone.
      ...(status === 'bounced' && { recipientGone: true }),
    };
    const applied = await this.receipts.apply(ref, receipt);
    return { applied: applied ? 1 : 0, unmatched: applied ? 0 : 1, ignored: 0 };
  }

  private sendGridRef(event: SendGridEvent, workspaceId: string | undefined): MessageRef | undefined {
    if (event.cdp_message_id) return { messageId: event.cdp_message_id, ...(workspaceId && { workspaceId }) };
    // sg_message_id is the X-Message-Id of the send response followed by ".filter..." parts.
    const providerMessageId = event.sg_message_id?.split('.')[0];
    return providerMessageId
      ? { provider: PROVIDERS.sendgrid, providerMessageId, ...(workspaceId && { workspaceId }) }
      : undefined;
  }
}
