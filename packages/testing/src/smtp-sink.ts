import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP reply the sink gives to RCPT TO instead of accepting (e.g. 550 unknown user, 451 try later). */
export interface SmtpRefusal {
  code: number;
  message: string;
}

/** A real SMTP server on localhost that keeps what it receives. */
export class SmtpSink {
  /**
   * Lets a test make the server refuse some recipients the way real servers do, or answer late (a
   * promise: the reply to RCPT TO waits for it).
   */
  constructor(
    private readonly refuse: (
      recipient: string,
    ) => SmtpRefusal | undefined | Promise<SmtpRefusal | undefined> = () => undefined,
  ) {}

  readonly received: ReceivedMail[] = [];
  /** Connection errors (a sender killed mid-session resets its socket); kept, never thrown. */
  readonly errors: Error[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo: (address, _session, callback) => {
      const answer = (refusal: SmtpRefusal | undefined) =>
        refusal
          ? callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }))
          : callback();
      void Promise.resolve(this.refuse(address.address)).then(answer, (e: Error) => callback(e));
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        this.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.server.on('error', (e: Error) => this.errors.push(e));
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
