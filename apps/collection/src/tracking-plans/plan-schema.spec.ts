import { compileSchema, issuesOf } from './plan-schema';

describe('tracking plan schemas', () => {
  const compiled = (schema: unknown) => {
    const result = compileSchema(schema);
    if (!result.ok) throw new Error(`did not compile: ${result.issue.reason}`);
    return result.validate;
  };

  it('reports every violation with a path into the call', () => {
    const validate = compiled({
      type: 'object',
      properties: { amount: { type: 'number' }, 'a/b': { type: 'string' } },
      required: ['amount', 'currency'],
      additionalProperties: false,
    });
    expect(validate({ amount: 'ten', extra: 1, 'a/b': 2 })).toBe(false);
    expect(issuesOf(validate.errors, '/properties')).toEqual(
      expect.arrayContaining([
        { path: '/properties/currency', reason: 'is required' },
        { path: '/properties/extra', reason: 'is not allowed by the tracking plan' },
        { path: '/properties/amount', reason: 'must be number' },
        { path: '/properties/a~1b', reason: 'must be string' },
      ]),
    );
  });

  it('checks formats and draft 2020-12 keywords; draft-07 when $schema says so', () => {
    const email = compiled({ properties: { email: { type: 'string', format: 'email' } } });
    expect(email({ email: 'not-an-email' })).toBe(false);
    expect(email({ email: 'a@example.com' })).toBe(true);
    const tuple = compiled({
      properties: { pair: { prefixItems: [{ type: 'string' }, { type: 'integer' }] } },
    });
    expect(tuple({ pair: ['a', 1.5] })).toBe(false);
    const draft07 = compiled({
      $schema: 'http://json-schema.org/draft-07/schema#',
      properties: { tags: { items: [{ type: 'string' }] } },
    });
    expect(draft07({ tags: [1] })).toBe(false);
  });

  it('refuses schemas ajv cannot compile, naming the part and the reason', () => {
    expect(compileSchema({ type: 'object', properties: { amount: { type: 'numbr' } } })).toEqual({
      ok: false,
      issue: {
        path: '/schema/properties/amount/type',
        reason: expect.stringContaining('must be equal to one of'),
      },
    });
    expect(compileSchema({ requierd: ['amount'] })).toEqual({
      ok: false,
      issue: { path: '/schema', reason: expect.stringContaining('unknown keyword: "requierd"') },
    });
    expect(compileSchema({ properties: { a: { format: 'no-such-format' } } })).toMatchObject({
      ok: false,
      issue: { reason: expect.stringContaining('unknown format "no-such-format"') },
    });
    expect(compileSchema({ $ref: 'https://example.com/remote.json' })).toMatchObject({
      ok: false,
      issue: { path: '/schema', reason: expect.stringContaining("can't resolve reference") },
    });
    expect(compileSchema({ $schema: 'https://example.com/my-meta' })).toMatchObject({
      ok: false,
      issue: { path: '/schema', reason: expect.stringContaining('https://example.com/my-meta') },
    });
    expect(compileSchema([1])).toMatchObject({ ok: false, issue: { path: '/schema' } });
  });

  it('keeps the $ids of separate schemas apart', () => {
    const first = compiled({ $id: 'https://example.com/plan', properties: { a: { type: 'string' } } });
    const second = compiled({ $id: 'https://example.com/plan', properties: { a: { type: 'number' } } });
    expect([first({ a: 'x' }), second({ a: 'x' })]).toEqual([true, false]);
  });
});
