import {
  RpcSubjects,
  Streams,
  Subjects,
  assertPrefix,
  deadLetterSubject,
  findEventSubject,
  parseSubject,
  streamName,
  streamSubjects,
  subjectFilter,
  subjectFor,
  type StreamKey,
} from './subjects';

const events = Object.values(Subjects);
const rpcs = Object.values(RpcSubjects);
const streamKeys = Object.keys(Streams) as StreamKey[];

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return i === f.length - 1 && s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** Streams whose subjects match `subject`. */
function streamsCovering(prefix: string, subject: string): StreamKey[] {
  return streamKeys.filter((key) => streamSubjects(prefix, key).some((filter) => matches(filter, subject)));
}

describe('the test subject matcher', () => {
  it('follows NATS wildcard rules', () => {
    expect(matches('cdp.event.>', 'cdp.event.ingested.ws')).toBe(true);
    expect(matches('cdp.event.>', 'cdp.event')).toBe(false);
    expect(matches('cdp.*.*.ws', 'cdp.event.ingested.ws')).toBe(true);
    expect(matches('cdp.*.*.ws', 'cdp.event.ingested.other')).toBe(false);
    expect(matches('cdp.event.ingested.*', 'cdp.event.ingested.ws.x')).toBe(false);
  });
});

describe('subjectFor / parseSubject', () => {
  it.each([...events, ...rpcs].map((s) => [s.name]))('round-trips %s without a prefix', (name) => {
    const subject = subjectFor('', name, 'ws_1');
    expect(subject).toBe(`${name}.ws_1`);
    expect(parseSubject('', subject)).toEqual({ name, workspaceId: 'ws_1' });
  });

  it.each([...events, ...rpcs].map((s) => [s.name]))('round-trips %s with a prefix', (name) => {
    const subject = subjectFor('run-42_b', name, 'Acme-Corp_01');
    expect(subject).toBe(`run-42_b.${name}.Acme-Corp_01`);
    expect(parseSubject('run-42_b', subject)).toEqual({ name, workspaceId: 'Acme-Corp_01' });
  });

  it('puts the workspace last so one tenant can be filtered across subjects', () => {
    for (const s of events) expect(matches('cdp.*.*.ws_1', subjectFor('', s.name, 'ws_1'))).toBe(true);
    expect(matches('cdp.*.*.ws_1', subjectFor('', Subjects.eventIngested.name, 'ws_2'))).toBe(false);
  });

  it.each([
    ['a dot', 'ws.1'],
    ['a star', 'ws*'],
    ['a lone star', '*'],
    ['a greater-than', 'ws>'],
    ['a space', 'ws 1'],
    ['a tab', 'ws\t1'],
    ['a newline', 'ws\n'],
    ['nothing', ''],
  ])('rejects a workspace id with %s', (_, workspaceId) => {
    expect(() => subjectFor('', Subjects.eventIngested.name, workspaceId)).toThrow(
      /cannot be a subject token/,
    );
    expect(() => subjectFor('p1', Subjects.eventIngested.name, workspaceId)).toThrow(
      /cannot be a subject token/,
    );
  });

  it('rejects a bad prefix', () => {
    expect(() => subjectFor('a.b', Subjects.eventIngested.name, 'ws')).toThrow(/NATS prefix/);
  });
});

describe('assertPrefix', () => {
  it.each(['a.b', '.', 'run.1', 'a b', '*', '>', 'run/1'])('rejects %j', (prefix) => {
    expect(() => assertPrefix(prefix)).toThrow(/NATS prefix/);
  });

  it.each(['', 'run1', 'jest-w3_1700000000'])('accepts %j', (prefix) => {
    expect(assertPrefix(prefix)).toBe(prefix);
  });
});

describe('filters and stream names', () => {
  it('subjectFilter matches every workspace by default, or one', () => {
    expect(subjectFilter('', 'cdp.event.ingested')).toBe('cdp.event.ingested.*');
    expect(subjectFilter('p1', 'cdp.event.ingested', 'ws_1')).toBe('p1.cdp.event.ingested.ws_1');
  });

  it('streamName and streamSubjects take the prefix', () => {
    expect(streamName('', 'EVENTS')).toBe('CDP_EVENTS');
    expect(streamName('p1', 'EVENTS')).toBe('p1_CDP_EVENTS');
    expect(streamSubjects('p1', 'EVENTS')).toEqual([
      'p1.cdp.event.>',
      'p1.cdp.profile.>',
      'p1.cdp.identity.>',
      'p1.cdp.customer.>',
    ]);
    expect(() => streamName('a.b', 'EVENTS')).toThrow(/NATS prefix/);
  });

  it('deadLetterSubject is cdp.dlq.<service>.<entity>.<action>.<ws> and lands in the DLQ stream only', () => {
    const dlq = deadLetterSubject('', 'campaign', Subjects.deliveryStatus.name, 'ws_1');
    expect(dlq).toBe('cdp.dlq.campaign.delivery.status.ws_1');
    expect(streamsCovering('', dlq)).toEqual(['DLQ']);
    const prefixed = deadLetterSubject('p1', 'analysis', Subjects.eventIngested.name, 'ws_1');
    expect(prefixed).toBe('p1.cdp.dlq.analysis.event.ingested.ws_1');
    expect(streamsCovering('p1', prefixed)).toEqual(['DLQ']);
    expect(() => deadLetterSubject('', 'campaign', Subjects.deliveryStatus.name, 'a.b')).toThrow();
  });

  it('findEventSubject finds by name', () => {
    expect(findEventSubject('cdp.delivery.status')).toBe(Subjects.deliveryStatus);
    expect(findEventSubject('cdp.nope.nothing')).toBeUndefined();
    expect(findEventSubject(RpcSubjects.customerLookup.name)).toBeUndefined();
  });
});

describe('Subjects, RpcSubjects and Streams', () => {
  const families = streamKeys.flatMap((key) => Streams[key].families.map((family) => ({ key, family })));

  it('names events cdp.<entity>.<action> and look-ups cdp-rpc.<entity>.<action>', () => {
    for (const s of events) expect(s.name).toMatch(/^cdp\.[a-z]+\.[a-z]+$/);
    for (const r of rpcs) expect(r.name).toMatch(/^cdp-rpc\.[a-z]+\.[a-z]+$/);
  });

  it('has one entry per name and version', () => {
    const ids = [...events, ...rpcs].map((s) => `${s.name}/v${s.version}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of [...events, ...rpcs]) expect(Number.isInteger(s.version) && s.version >= 1).toBe(true);
  });

  it('has unique stream names', () => {
    const names = streamKeys.map((key) => Streams[key].name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps stream families disjoint (no family equals or contains another)', () => {
    for (const a of families)
      for (const b of families) {
        if (a === b) continue;
        expect(a.family).not.toBe(b.family);
        expect(a.family.startsWith(`${b.family}.`)).toBe(false);
      }
  });

  it.each(events.map((s) => [s.name, s.stream]))(
    '%s is covered by exactly its own stream %s',
    (name, stream) => {
      expect(streamsCovering('', subjectFor('', name, 'ws_1'))).toEqual([stream]);
      expect(streamsCovering('p1', subjectFor('p1', name, 'ws_1'))).toEqual([stream]);
      expect(families.filter((f) => name.startsWith(`${f.family}.`)).map((f) => f.key)).toEqual([stream]);
    },
  );

  it('puts no request/reply subject on a stream', () => {
    for (const f of families) expect(f.family.startsWith('cdp-rpc')).toBe(false);
    for (const r of rpcs) {
      expect(streamsCovering('', subjectFor('', r.name, 'ws_1'))).toEqual([]);
      expect(streamsCovering('p1', subjectFor('p1', r.name, 'ws_1'))).toEqual([]);
    }
    expect(streamsCovering('', 'cdp-rpc.anything.at.all')).toEqual([]);
  });
});
