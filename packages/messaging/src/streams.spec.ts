import { consumerConfig, durableName, streamConfig } from './streams';

describe('naming and configs', () => {
  it('names a durable after the service and subject, without dots', () => {
    expect(durableName('analysis', 'cdp.event.ingested')).toBe('analysis__cdp_event_ingested');
  });

  it('builds a prefixed file stream with limits retention, max age and a 2 min duplicate window', () => {
    expect(streamConfig('t1', 'EVENTS', 1)).toMatchObject({
      name: 't1_CDP_EVENTS',
      subjects: ['t1.cdp.event.>', 't1.cdp.profile.>', 't1.cdp.identity.>', 't1.cdp.customer.>'],
      retention: 'limits',
      storage: 'file',
      max_age: 7 * 86_400 * 1e9,
      duplicate_window: 120 * 1e9,
      num_replicas: 1,
    });
    expect(streamConfig('', 'DLQ', 3)).toMatchObject({
      name: 'CDP_DLQ',
      subjects: ['cdp.dlq.>'],
      num_replicas: 3,
    });
  });

  it('builds an explicit-ack pull consumer without server-side backoff', () => {
    expect(consumerConfig('d', 'p.cdp.x.y.*', 30_000, 5, 'desc')).toMatchObject({
      durable_name: 'd',
      filter_subject: 'p.cdp.x.y.*',
      ack_policy: 'explicit',
      ack_wait: 30e9,
      max_deliver: 5,
      backoff: [],
    });
  });
});
