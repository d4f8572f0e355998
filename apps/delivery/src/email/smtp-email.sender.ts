import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';

export interface Email {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export interface SendResult {
  providerMessageId: string;
  response: string;
}

/** A send failure; `permanent` ones (5xx, bad address) must not be retried. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** Email over SMTP through a pooled nodemailer transport. */
@Injectable()
export class SmtpEmailSender implements OnApplicationShutdown {
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

  async send(email: Email): Promise<SendResult> {
    try {
      const info = (await this.transport.sendMail({ from: this.from, ...email })) as {
        messageId: string;
        response: string;
        rejected?: unknown[];
      };
      if (info.rejected?.length) throw new SendError(`recipient rejected: ${info.response}`, true);
      return { providerMessageId: info.messageId, response: info.response };
    } catch (e) {
      if (e instanceof SendError) throw e;
      const { responseCode, message } = e as { responseCode?: number; message?: string };
      // 5xx SMTP replies and malformed addresses are final; connection problems and 4xx are not.
      const permanent =
        (responseCode !== undefined && responseCode >= 500) ||
        /No recipients defined|Invalid address/i.test(message ?? '');
      throw new SendError(message ?? String(e), permanent);
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
