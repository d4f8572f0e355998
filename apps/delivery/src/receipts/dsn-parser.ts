import PostalMime from 'postal-mime';

/** One per-recipient block of an RFC 3464 delivery-status notification. */
export interface DsnRecipient {
  finalRecipient?: string;
  /** `failed`, `delayed`, `delivered`, `relayed` or `expanded`. */
  action: string;
  /** Enhanced status code (RFC 3463), e.g. `5.1.1`. */
  status: string;
  diagnosticCode?: string;
}

export interface DeliveryStatusNotification {
  recipients: DsnRecipient[];
  /** Our ledger id, from the X-CDP-Message-Id header of the returned original. */
  cdpMessageId?: string;
  /** Message-ID header of the returned original (the SMTP adapter's providerMessageId). */
  originalMessageId?: string;
  arrivalDate?: Date;
}

export class DsnParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DsnParseError';
  }
}

/**
 * Reads an RFC 3464 report (`multipart/report; report-type=delivery-status`): the
 * `message/delivery-status` part for each recipient's Action and Status, and the returned original
 * (`message/rfc822` or `text/rfc822-headers`) for the ids that match it to the ledger.
 */
export async function parseDsn(raw: Buffer | string): Promise<DeliveryStatusNotification> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
  const contentType = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
  if (
    !/^multipart\/report\b/i.test(contentType) ||
    !/report-type\s*=\s*"?delivery-status"?/i.test(contentType)
  )
    throw new DsnParseError(
      'not a delivery-status report (Content-Type: multipart/report; report-type=delivery-status)',
    );
  const statusPart = email.attachments.find((a) => /^message\/(global-)?delivery-status$/i.test(a.mimeType));
  if (!statusPart) throw new DsnParseError('the report has no message/delivery-status part');
  const [perMessage = {}, ...perRecipient] = fieldGroups(textOf(statusPart.content));
  const recipients = perRecipient
    .filter((g) => g.action && g.status)
    .map((g) => ({
      action: g.action!.toLowerCase(),
      status: /\d\.\d{1,3}\.\d{1,3}/.exec(g.status!)?.[0] ?? g.status!,
      ...(g['final-recipient'] && { finalRecipient: g['final-recipient'].replace(/^[^;]*;\s*/, '') }),
      ...(g['diagnostic-code'] && { diagnosticCode: g['diagnostic-code'] }),
    }));
  if (recipients.length === 0)
    throw new DsnParseError('the delivery-status part names no recipient with Action and Status');

  const original = email.attachments.find((a) =>
    /^(message\/rfc822|text\/rfc822-headers|message\/global(-headers)?)$/i.test(a.mimeType),
  );
  const headers = original
    ? (await PostalMime.parse(textOf(original.content).replace(/^\s+/, ''))).headers
    : [];
  const header = (name: string) => headers.find((h) => h.key === name)?.value.trim() || undefined;
  const arrival = perMessage['arrival-date']
    ? new Date(perMessage['arrival-date'].replace(/\s*\(.*\)$/, ''))
    : undefined;
  return {
    recipients,
    ...(header('x-cdp-message-id') && { cdpMessageId: header('x-cdp-message-id') }),
    ...(header('message-id') && { originalMessageId: header('message-id') }),
    ...(arrival && !Number.isNaN(arrival.getTime()) && { arrivalDate: arrival }),
  };
}

/** What a DSN recipient block means for the ledger: a permanent failure is a bounce, the rest changes nothing. */
export function dsnOutcome(recipient: DsnRecipient): 'bounced' | 'delivered' | undefined {
  if (recipient.action === 'failed' && recipient.status.startsWith('5.')) return 'bounced';
  if (recipient.action === 'delivered') return 'delivered';
  return undefined;
}

function textOf(content: string | ArrayBuffer | Uint8Array): string {
  return typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer).toString('utf8');
}

/** Header-style field groups separated by blank lines (RFC 3464 section 2.1), folded lines joined. */
function fieldGroups(text: string): Record<string, string>[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.replace(/\n[ \t]+/g, ' ').split('\n')) {
        const cut = line.indexOf(':');
        if (cut > 0) fields[line.slice(0, cut).trim().toLowerCase()] = line.slice(cut + 1).trim();
      }
      return fields;
    })
    .filter((fields) => Object.keys(fields).length > 0);
}
