/** A generic JSON webhook source: an ad platform's lead events mapped to tracking calls by stored configuration. */
import { waitFor } from '@cdp/testing';
import { RunningCollection } from './collection-process';

const LEAD_MAPPING = {
  type: 'track',
  items: 'entry',
  messageId: { path: 'leadgen_id' },
  anonymousId: { path: 'click_id' },
  event: { const: 'Ad Lead Submitted' },
  timestamp: { path: 'created_time' },
  properties: { campaign: { path: 'campaign.name' }, form: { path: 'form_id' } },
  context: { channel: { const: 'ad' } },
};

describe('webhook source with a field mapping', () => {
  let collection: RunningCollection;
  let keys: RunningCollection['keys'];

  beforeAll(async () => {
    collection = await RunningCollection.start('hook', { source: 'ads' });
    keys = collection.keys;
  });

  afterAll(async () => {
    expect(await collection?.stop()).toBe(0);
  });

  const manage = (method: string, path: string, body: unknown) => collection.api(method, path, body);
  const hook = (body: unknown) => collection.send('/v1/webhooks', body);
  const payload = {
    entry: [
      {
        leadgen_id: 'lead-1',
        click_id: 'clk-1',
        created_time: '2026-11-20T08:00:00Z',
        form_id: 'F1',
        campaign: { name: 'Autumn savings' },
      },
      {
        leadgen_id: 'lead-2',
        created_time: '2026-11-20T08:01:00Z',
        form_id: 'F1',
        campaign: { name: 'Autumn savings' },
      },
      { leadgen_id: 'lead-3', click_id: 'clk-3', created_time: 'not a time', form_id: 'F2' },
    ],
  };

  it('refuses webhooks until the source has a mapping, and bad mappings with field paths', async () => {
    const unmapped = await hook(payload);
    expect(unmapped.status).toBe(400);
    expect(unmapped.body.message).toContain('no webhook mapping');
    const bad = await manage('PUT', `/v1/sources/${keys.sourceId}/webhook-mapping`, {
      ...LEAD_MAPPING,
      event: { from: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('/event');
  });

  it('previews and then accepts mapped items, rejecting the unmappable ones by index', async () => {
    expect((await manage('PUT', `/v1/sources/${keys.sourceId}/webhook-mapping`, LEAD_MAPPING)).status).toBe(
      200,
    );
    const preview = await manage('POST', `/v1/sources/${keys.sourceId}/webhook-mapping/preview`, { payload });
    expect(preview.body[0]).toEqual({
      call: {
        type: 'track',
        messageId: 'lead-1',
        anonymousId: 'clk-1',
        event: 'Ad Lead Submitted',
        timestamp: '2026-11-20T08:00:00Z',
        properties: { campaign: 'Autumn savings', form: 'F1' },
        context: { channel: 'ad' },
      },
    });

    const received = await hook(payload);
    expect(received.status).toBe(200);
    expect(received.body.accepted).toBe(1);
    expect(received.body.rejected.map((r: any) => [r.index, r.issues[0].path])).toEqual([
      [1, '/userId'],
      [2, '/timestamp'],
    ]);
    const customer = await waitFor('the lead stored', async () => {
      const res = await fetch(
        `${collection.url}/v1/customers?identifierType=anonymous_id&identifierValue=clk-1`,
        { headers: { authorization: `Bearer ${keys.apiKey}` } },
      );
      return res.status === 200 ? ((await res.json()) as any) : undefined;
    });
    const events = await waitFor('the lead event', async () => {
      const res = await fetch(`${collection.url}/v1/customers/${customer.id}/events`, {
        headers: { authorization: `Bearer ${keys.apiKey}` },
      });
      const page = (await res.json()) as any;
      return page.items.length ? page.items : undefined;
    });
    expect(events[0]).toMatchObject({
      name: 'Ad Lead Submitted',
      channel: 'ad',
      messageId: 'lead-1',
      properties: { campaign: 'Autumn savings', form: 'F1' },
    });
  });
});
