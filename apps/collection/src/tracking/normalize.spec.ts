import { channelOf, correctedTimestamp, journeyStageOf } from './normalize';

describe('tracking normalisation', () => {
  it('corrects the device clock by the sentAt/timestamp difference', () => {
    const receivedAt = new Date('2026-01-01T12:00:00.000Z');
    // Device clock one hour fast: event happened 10 s before it was sent.
    expect(
      correctedTimestamp('2026-01-01T13:00:00.000Z', '2026-01-01T13:00:10.000Z', receivedAt).toISOString(),
    ).toBe('2026-01-01T11:59:50.000Z');
    expect(correctedTimestamp('2026-01-01T10:00:00.000Z', undefined, receivedAt).toISOString()).toBe(
      '2026-01-01T10:00:00.000Z',
    );
    expect(correctedTimestamp(undefined, undefined, receivedAt)).toBe(receivedAt);
    // Device clocks thousands of years apart would correct into an unstorable year: keep the device time.
    expect(
      correctedTimestamp('1900-01-01T00:00:00.000Z', '9999-01-01T00:00:00.000Z', receivedAt).toISOString(),
    ).toBe('1900-01-01T00:00:00.000Z');
  });

  it('takes the channel from the context, else from the kind of source', () => {
    expect(channelOf({ channel: 'branch' }, 'server')).toBe('branch');
    expect(channelOf({ channel: 'moon' }, 'app')).toBe('app');
    expect(channelOf({}, 'operational_db')).toBe('operational');
    expect(channelOf({}, 'server')).toBe('other');
  });

  it('accepts only known journey stages', () => {
    expect(journeyStageOf({ journeyStage: 'purchase' })).toBe('purchase');
    expect(journeyStageOf({}, { journeyStage: 'explore_compare' })).toBe('explore_compare');
    expect(journeyStageOf({ journeyStage: 'whatever' })).toBeUndefined();
  });
});
