import type { DeliveryConfig } from '../config';
import { LinkSigner } from './link-signer';
import { TrackingLinks } from './tracking-links';

const message = { id: '7d7c1c1e-1111-4222-8333-944445555666', workspaceId: 'ws-1', channel: 'email' };

function links(secret: string | undefined) {
  const config = {
    DELIVERY_PUBLIC_BASE_URL: 'https://t.example.com/',
    ...(secret && { DELIVERY_LINK_SECRET: secret }),
  } as DeliveryConfig;
  const signer = new LinkSigner(config);
  return { signer, links: new TrackingLinks(signer, config) };
}

describe('TrackingLinks.instrumentEmail', () => {
  const { signer, links: tracking } = links('s'.repeat(32));

  it('changes only the http(s) hrefs and keeps the rest of the markup byte for byte', () => {
    const html = [
      '<!DOCTYPE html><html><head><!--[if mso]><style>td{}</style><![endif]--></head>',
      "<body><table><tr><td><a class=btn href='https://bank.example/a?x=1&amp;y=2' target=_blank>A</a>",
      '<a href="#top">top</a><a href="tel:+8210">call</a><A HREF="http://bank.example/B">B</A></td></tr></table>',
      '</body></html>',
    ].join('\n');
    const out = tracking.instrumentEmail(html, '', message);
    const clicks = [...out.html!.matchAll(/href="https:\/\/t\.example\.com\/t\/c\/([^"]+)"/g)].map(
      (m) => signer.verify(m[1]!)?.u,
    );
    expect(clicks).toEqual(['https://bank.example/a?x=1&y=2', 'http://bank.example/B']);
    const restored = out
      .html!.replace(/href="https:\/\/t\.example\.com\/t\/c\/[^"]+"/g, 'HREF')
      .replace(/<img src="[^"]+\/t\/o\/[^"]+"[^>]*\/>/, '');
    expect(restored).toBe(
      html
        .replace("href='https://bank.example/a?x=1&amp;y=2'", 'HREF')
        .replace('HREF="http://bank.example/B"', 'HREF'),
    );
    expect(out.html).toMatch(/<\/table>\n<img src="[^"]+\/t\/o\/[^"]+\.gif"[^>]*\/><\/body>/);
  });

  it('appends the pixel to an HTML fragment without a body and rewrites plain-text links', () => {
    const out = tracking.instrumentEmail('<p>Hi</p>', 'Visit https://bank.example/x, or mail me.', message);
    expect(out.html).toMatch(/^<p>Hi<\/p><img /);
    const [, token, rest] = /^Visit https:\/\/t\.example\.com\/t\/c\/(\S+?)(, or mail me\.)$/.exec(out.text)!;
    expect(signer.verify(token!)).toEqual({ m: message.id, w: 'ws-1', u: 'https://bank.example/x' });
    expect(rest).toBe(', or mail me.');
    expect(out.unsubscribeUrl).toMatch(/^https:\/\/t\.example\.com\/u\//);
    expect(signer.verify(out.unsubscribeUrl!.split('/u/')[1]!)).toEqual({
      m: message.id,
      w: 'ws-1',
      c: 'email',
    });
  });

  it('leaves the email untouched without DELIVERY_LINK_SECRET', () => {
    const { links: off } = links(undefined);
    expect(off.instrumentEmail('<a href="https://x.example">x</a>', 'https://x.example', message)).toEqual({
      html: '<a href="https://x.example">x</a>',
      text: 'https://x.example',
      headers: {},
    });
  });
});

describe('LinkSigner', () => {
  const { signer } = links('k'.repeat(40));
  const { signer: other } = links('z'.repeat(40));

  it('accepts its own tokens only', () => {
    const token = signer.sign({ m: 'm1', w: 'w1', u: 'https://a.example' });
    expect(signer.verify(token)).toEqual({ m: 'm1', w: 'w1', u: 'https://a.example' });
    expect(other.verify(token)).toBeUndefined();
    expect(signer.verify(`${token}x`)).toBeUndefined();
    expect(signer.verify(token.split('.')[0]!)).toBeUndefined();
    expect(signer.verify(`${token}.extra`)).toBeUndefined();
  });
});
