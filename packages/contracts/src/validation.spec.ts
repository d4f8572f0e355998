import { EventExamples, RpcExamples } from './asyncapi/examples';
import { RpcSubjects, Subjects, type SubjectKey } from './subjects';
import { Type } from '@sinclair/typebox';
import { CHANNELS } from './payloads/common';
import { CreateSegmentRequest } from './rest/segments';
import { ContractViolation, assertValid, validate } from './validation';

const subjectKeys = Object.keys(Subjects) as SubjectKey[];

describe('validate() accepts the example of every subject', () => {
  it('has an example for every event subject and no stray ones', () => {
    expect(Object.keys(EventExamples).sort()).toEqual([...subjectKeys].sort());
    expect(Object.keys(RpcExamples).sort()).toEqual(Object.keys(RpcSubjects).sort());
  });

  it.each(subjectKeys.map((k) => [Subjects[k].name, k] as const))('%s', (_, key) => {
    const result = validate(Subjects[key].schema, EventExamples[key]);
    expect(result).toEqual({ ok: true, value: EventExamples[key] });
  });

  it.each(Object.keys(RpcSubjects).map((k) => [k] as const))('%s requests and replies', (key) => {
    const rpc = RpcSubjects[key as keyof typeof RpcSubjects];
    const pairs = RpcExamples[key as keyof typeof RpcExamples];
    expect(pairs.length).toBeGreaterThan(0);
    for (const { request, reply } of pairs) {
      expect(validate(rpc.request, request)).toMatchObject({ ok: true });
      expect(validate(rpc.reply, reply)).toMatchObject({ ok: true });
    }
  });
});

describe('validate() explains what is wrong', () => {
  const good = EventExamples.ingestAccepted;
  const schema = Subjects.ingestAccepted.schema;

  function issues(value: unknown, s: typeof schema | (typeof Subjects)[SubjectKey]['schema'] = schema) {
    const result = validate(s, value);
    if (result.ok) throw new Error('expected the payload to be rejected');
    return result.issues;
  }

  it('reports a missing workspaceId', () => {
    const { workspaceId: _omit, ...rest } = good;
    expect(issues(rest)).toContainEqual({ path: '/workspaceId', reason: 'Expected required property' });
  });

  it('reports a workspaceId that is not one subject token', () => {
    const found = issues({ ...good, workspaceId: 'acme.eu' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: '/workspaceId' });
    expect(found[0]?.reason).toMatch(/match/);
  });

  it('reports a channel outside the enum', () => {
    expect(issues({ ...good, channel: 'fax' })).toEqual([
      { path: '/channel', reason: `must be one of ${CHANNELS.map((c) => `"${c}"`).join(', ')}` },
    ]);
  });

  it('names the types a union allows when a value matches none of them', () => {
    const schema = Type.Object({
      expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      value: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
    });
    const result = validate(schema, { expiresAt: 3, value: {} });
    expect(result.ok ? [] : result.issues).toEqual([
      { path: '/expiresAt', reason: 'must be a date-time string or null' },
      { path: '/value', reason: 'must be a string, a number or a boolean' },
    ]);
  });

  it('reports a tagged union member by its own fields, however deep, and an unknown tag at /type', () => {
    const issues = (definition: unknown) => {
      const result = validate(CreateSegmentRequest, { name: 'x', definition });
      return result.ok ? [] : result.issues;
    };
    expect(
      issues({
        type: 'any',
        conditions: [
          { type: 'event', name: 'a' },
          { type: 'lifecycle', stage: 'vip' },
        ],
      }),
    ).toEqual([
      {
        path: '/definition/conditions/1/stage',
        reason: 'must be one of "potential", "prospect", "contracted"',
      },
    ]);
    expect(issues({ type: 'event', name: 'a', where: [{ property: 'p', op: 'like' }] })).toEqual([
      { path: '/definition/where/0/op', reason: expect.stringMatching(/^must be one of "eq", "neq"/) },
    ]);
    expect(issues({ type: 'cohort' })).toEqual([
      {
        path: '/definition/type',
        reason: 'must be one of "event", "lifecycle", "trait", "score", "any", "all"',
      },
    ]);
    expect(issues('everyone')).toEqual([{ path: '/definition', reason: 'must be an object' }]);
  });

  it.each([
    '2025-03-14 09:26:53Z',
    '2025-03-14T09:26:53',
    '14/03/2025',
    '2025-13-01T00:00:00Z',
    '2025-03-14T25:00:00Z',
    '',
  ])('reports a bad date-time %j', (timestamp) => {
    const found = issues({ ...good, timestamp });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: '/timestamp' });
    expect(found[0]?.reason).toMatch(/date-time/);
  });

  it.each(['2025-03-14T09:26:53Z', '2025-03-14T09:26:53.589Z', '2025-03-14T10:26:53+01:00'])(
    'accepts the date-time %j',
    (timestamp) => {
      expect(validate(schema, { ...good, timestamp }).ok).toBe(true);
    },
  );

  it('ignores unknown fields (tolerant reader: adding a field is not breaking)', () => {
    expect(validate(schema, { ...good, addedLater: 1 }).ok).toBe(true);
  });

  it('rejects impossible calendar dates', () => {
    expect(issues({ ...good, timestamp: '2025-02-30T10:00:00Z' })).toEqual([
      { path: '/timestamp', reason: expect.any(String) },
    ]);
  });

  it('reports nested paths', () => {
    const request = EventExamples.deliveryRequested;
    const found = issues({ ...request, template: { subject: 'Hi' } }, Subjects.deliveryRequested.schema);
    expect(found).toContainEqual({ path: '/template/body', reason: 'Expected required property' });
    const merged = issues({ ...EventExamples.identityMerged, mergedIds: [] }, Subjects.identityMerged.schema);
    expect(merged).toEqual([{ path: '/mergedIds', reason: expect.stringMatching(/length/) }]);
  });

  it('reports a value that is not an object at the root', () => {
    for (const value of [null, 'x', 42, [good]])
      expect(issues(value)).toEqual([{ path: '/', reason: 'Expected object' }]);
  });

  it('stops after maxIssues', () => {
    expect(validate(schema, {}, 3)).toEqual({ ok: false, issues: expect.any(Array) });
    const result = validate(schema, {}, 3);
    expect(result.ok === false && result.issues).toHaveLength(3);
  });
});

describe('assertValid', () => {
  it('returns a valid payload', () => {
    expect(
      assertValid('cdp.consent.changed/v1', Subjects.consentChanged.schema, EventExamples.consentChanged),
    ).toBe(EventExamples.consentChanged);
  });

  it('throws a ContractViolation naming the contract and the issues', () => {
    let error: unknown;
    try {
      assertValid('cdp.consent.changed/v1', Subjects.consentChanged.schema, {
        ...EventExamples.consentChanged,
        status: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContractViolation);
    expect(error).toMatchObject({
      name: 'ContractViolation',
      contract: 'cdp.consent.changed/v1',
      issues: [{ path: '/status', reason: 'must be one of "granted", "withdrawn"' }],
      message: 'cdp.consent.changed/v1: /status must be one of "granted", "withdrawn"',
    });
  });
});
