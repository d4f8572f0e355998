import { Inject, Injectable } from '@nestjs/common';
import LinkifyIt from 'linkify-it';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { LinkSigner } from './link-signer';

type Element = DefaultTreeAdapterMap['element'];
type ParentNode = DefaultTreeAdapterMap['parentNode'];

/** The ledger fields a tracked message needs. */
export interface TrackedMessage {
  id: string;
  workspaceId: string;
  channel: string;
}

export interface InstrumentedEmail {
  html?: string;
  text: string;
  /** `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058); empty when tracking is off. */
  headers: Record<string, string>;
  unsubscribeUrl?: string;
}

const TRACKABLE = /^https?:\/\//i;

/**
 * Builds the open pixel, click redirects and the one-click unsubscribe link of a message.
 * Without DELIVERY_LINK_SECRET nothing is rewritten: tracking is off, the email goes out as written.
 */
@Injectable()
export class TrackingLinks {
  private readonly base: string;
  private readonly linkify = new LinkifyIt({}, { fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });

  constructor(
    private readonly signer: LinkSigner,
    @Inject(SERVICE_CONFIG) config: DeliveryConfig,
  ) {
    this.base = config.DELIVERY_PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  openPixelUrl(message: TrackedMessage): string {
    return `${this.base}/t/o/${this.signer.sign({ m: message.id, w: message.workspaceId })}.gif`;
  }

  clickUrl(message: TrackedMessage, url: string): string {
    return `${this.base}/t/c/${this.signer.sign({ m: message.id, w: message.workspaceId, u: url })}`;
  }

  unsubscribeUrl(message: TrackedMessage): string {
    return `${this.base}/u/${this.signer.sign({ m: message.id, w: message.workspaceId, c: message.channel })}`;
  }

  /**
   * Rewrites every http(s) link of the HTML and text parts to a click redirect, appends the open
   * pixel to the HTML, and returns the one-click unsubscribe headers. Only the href values change;
   * the rest of the HTML is kept byte for byte (email markup is fragile).
   */
  instrumentEmail(html: string | undefined, text: string, message: TrackedMessage): InstrumentedEmail {
    if (!this.signer.enabled) return { ...(html !== undefined && { html }), text, headers: {} };
    const unsubscribeUrl = this.unsubscribeUrl(message);
    return {
      ...(html !== undefined && { html: this.instrumentHtml(html, message) }),
      text: this.instrumentText(text, message),
      headers: {
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      unsubscribeUrl,
    };
  }

  private instrumentHtml(html: string, message: TrackedMessage): string {
    const document = parse(html, { sourceCodeLocationInfo: true });
    const edits: { start: number; end: number; value: string }[] = [];
    let bodyEnd: number | undefined;
    const visit = (node: ParentNode) => {
      for (const child of node.childNodes) {
        if (!('tagName' in child)) continue;
        const element: Element = child;
        if (element.tagName === 'body') bodyEnd = element.sourceCodeLocation?.endTag?.startOffset;
        const href = element.attrs.find((a) => a.name === 'href' && !a.prefix);
        const location = element.sourceCodeLocation?.attrs?.href;
        if ((element.tagName === 'a' || element.tagName === 'area') && href && location) {
          const url = href.value.trim();
          if (TRACKABLE.test(url))
            edits.push({
              start: location.startOffset,
              end: location.endOffset,
              value: `href="${escapeAttribute(this.clickUrl(message, url))}"`,
            });
        }
        visit(
          element.tagName === 'template' ? (element as DefaultTreeAdapterMap['template']).content : element,
        );
      }
    };
    visit(document);
    const pixel = `<img src="${escapeAttribute(this.openPixelUrl(message))}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
    edits.push({ start: bodyEnd ?? html.length, end: bodyEnd ?? html.length, value: pixel });
    edits.sort((a, b) => b.start - a.start);
    let out = html;
    for (const edit of edits) out = out.slice(0, edit.start) + edit.value + out.slice(edit.end);
    return out;
  }

  private instrumentText(text: string, message: TrackedMessage): string {
    const matches = (this.linkify.match(text) ?? []).filter((m) => TRACKABLE.test(m.url));
    let out = text;
    for (const match of [...matches].reverse())
      out = out.slice(0, match.index) + this.clickUrl(message, match.url) + out.slice(match.lastIndex);
    return out;
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}
