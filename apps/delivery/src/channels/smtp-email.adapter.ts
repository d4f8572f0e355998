import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { SendError, type ChannelAdapter, type OutboundMessage, type SendResult } from './channel-adapter';

/** Email over SMTP through a pooled nodemailer transport. */
@Injectable()
export class SmtpEmailAdapter implements ChannelAdapter, OnApplicationShutdown {
  readonly channel = 'email' as const;
  readonly provider = 'smtp';
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(@Inject(SERVICE_CONFIG) config: DeliveryConfig) {
    this.from = config.SMTP_FROM;
    this.transport = createTransport({
      pool: true,
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      maxConnections: config.SMTP_POOL_SIZE,
      ...(config.SMTP_USER && { auth: { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? '' } }),
      connectionTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    try {
      const info = (await this.transport.sendMail({
        from: this.from,
        to: message.recipient,
        subject: message.subject ?? '',
        text: message.text,
        ...(message.html && { html: message.html }),
        headers: { 'X-CDP-Message-Id': message.messageId, ...message.headers },
      })) as { messageId: string; response: string; rejected?: unknown[] };
      if (info.rejected?.length) throw new SendError(`recipient rejected: ${info.response}`, true);
      return { provider: this.provider, providerMessageId: info.messageId, response: info.response };
    } catch (e) {
      if (e instanceof SendError) throw e;
      const { responseCode, message: reason } = e as { responseCode?: number; message?: string };
      // 5xx SMTP replies and malformed addresses are final; connection problems and 4xx are not.
      const permanent =
        (responseCode !== undefined && responseCode >= 500) ||
        /No recipients defined|Invalid address/i.test(reason ?? '');
      throw new SendError(reason ?? String(e), permanent);
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
