import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { ProviderReceiptsService } from './provider-receipts.service';

/** Largest bounce taken: a DSN with the returned original's headers or a small body fits well. */
export const MAX_DSN_BYTES = 1024 * 1024;

/** SMTP reply with a code (smtp-server reads `responseCode`). */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Takes bounces over SMTP (`DSN_SMTP_PORT`): an MTA delivers each RFC 3464 report here as it
 * would to a mailbox, and it is applied like `POST /v1/receipts/dsn`. A mail that is not a DSN (an
 * out-of-office reply to the Return-Path) is accepted and dropped, so it bounces nowhere; a report
 * that cannot be recorded now (Postgres down) gets 451, so the MTA keeps it and tries again.
 * It relays nothing and asks for no login: expose it only to the MTAs that deliver the bounces.
 */
@Injectable()
export class DsnSmtpListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DsnSmtpListener.name);
  private server?: SMTPServer;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly receipts: ProviderReceiptsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.DSN_SMTP_PORT;
    if (port === undefined) return;
    const server = new SMTPServer({
      banner: 'CDP delivery: bounces (RFC 3464) only',
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: MAX_DSN_BYTES,
      logger: false,
      closeTimeout: 5_000,
      onData: (stream, _session, callback) => {
        this.receive(stream).then(() => callback(), callback);
      },
    });
    server.on('error', (e) => this.logger.warn(`DSN SMTP listener: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.DSN_SMTP_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log(`DSN SMTP listener on ${this.config.DSN_SMTP_HOST}:${port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async receive(stream: SMTPServerDataStream): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Message larger than ${MAX_DSN_BYTES} bytes`);
    try {
      const result = await this.receipts.dsn(Buffer.concat(chunks));
      if (result.unmatched) this.logger.warn('a DSN over SMTP matched no message of the ledger');
    } catch (error) {
      if (error instanceof BadRequestException) {
        this.logger.log(`mail over SMTP dropped, not a DSN: ${error.message}`);
        return;
      }
      this.logger.warn(`DSN over SMTP not recorded, the MTA will retry: ${(error as Error).message}`);
      throw smtpError(451, '4.3.0 The bounce cannot be recorded now; try again later');
    }
  }
}
