import type { DeliveryConfig } from '../config';
import { SendError, type ChannelAdapter, type OutboundMessage, type SendResult } from './channel-adapter';
import { SmtpThread } from './smtp-thread';

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
  poolSize: number;
}

export function smtpOptionsFromConfig(config: DeliveryConfig): SmtpOptions {
  return {
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    ...(config.SMTP_USER && { user: config.SMTP_USER, password: config.SMTP_PASSWORD ?? '' }),
    from: config.SMTP_FROM,
    poolSize: config.SMTP_POOL_SIZE,
  };
}

/**
 * Email over SMTP through a pooled nodemailer transport (one pool per adapter; close() ends it),
 * run in the process's SMTP thread.
 */
export class SmtpEmailAdapter implements ChannelAdapter {
  readonly channel = 'email' as const;
  readonly provider = 'smtp';
  /** A DSN names the original by its Message-ID header, which is ours only if the server kept it. */
  readonly receiptsByProviderId = true;
  readonly parallelism: number;
  private readonly thread = SmtpThread.shared();
  private readonly pool: number;
  private readonly from: string;
  /** Right-hand side of our Message-IDs: the sender's domain, as nodemailer would pick it. */
  private readonly idDomain: string;

  constructor(options: SmtpOptions) {
    this.from = options.from;
    this.idDomain = /@([^\s@<>]+)>?\s*$/.exec(options.from)?.[1] ?? 'localhost';
    this.parallelism = options.poolSize;
    this.pool = this.thread.open({
      pool: true,
      host: options.host,
      port: options.port,
      secure: options.secure,
      maxConnections: options.poolSize,
      ...(options.user && { auth: { user: options.user, pass: options.password ?? '' } }),
      connectionTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const result = await this.thread.send(this.pool, {
      from: this.from,
      // Unique through the ledger id, so nodemailer need not draw random bytes for one per email.
      messageId: `<${message.messageId}@${this.idDomain}>`,
      // The random part of multipart boundaries: the ledger id (a random UUID) instead of
      // random bytes drawn for every email.
      baseBoundary: message.messageId,
      to: message.recipient,
      subject: message.subject ?? '',
      text: message.text,
      ...(message.html && { html: message.html }),
      headers: { 'X-CDP-Message-Id': message.messageId, ...message.headers },
    });
    if ('error' in result) {
      const { responseCode, message: reason } = result.error;
      // 5xx SMTP replies and malformed addresses are final; connection problems and 4xx are not.
      const permanent =
        (responseCode !== undefined && responseCode >= 500) ||
        /No recipients defined|Invalid address/i.test(reason);
      throw new SendError(reason, permanent);
    }
    const { info } = result;
    if (info.rejected?.length) throw new SendError(`recipient rejected: ${info.response}`, true);
    return { provider: this.provider, providerMessageId: info.messageId, response: info.response };
  }

  close(): void {
    this.thread.close(this.pool);
  }
}
