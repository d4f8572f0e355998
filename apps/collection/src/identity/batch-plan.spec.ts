import { planBatch, type PlanRequest } from './batch-plan';
import { DEFAULT_IDENTITY_RULES, RuleBook } from './identity-rules';

const books = new Map([['ws', new RuleBook(DEFAULT_IDENTITY_RULES)]]);
const req = (...pairs: Array<[string, string]>): PlanRequest => ({
  workspaceId: 'ws',
  identifiers: pairs.map(([type, value]) => ({ type, value })),
});
const known = (type: string, value: string, customerId: string) => ({
  workspaceId: 'ws',
  type,
  value,
  customerId,
});

describe('planBatch', () => {
  it('groups calls of one new person, and calls of one known customer, set-wise', () => {
    const plans = planBatch(
      [req(['anonymous_id', 'a1']), req(['anonymous_id', 'a1'], ['user_id', 'u1']), req(['user_id', 'k'])],
      [known('user_id', 'k', 'C1')],
      books,
      new Map([['C1', new Map([['user_id', 1]])]]),
    );
    expect(plans).toEqual([
      {
        kind: 'new',
        workspaceId: 'ws',
        requests: [0, 1],
        fresh: [
          { type: 'anonymous_id', value: 'a1', request: 0 },
          { type: 'user_id', value: 'u1', request: 1 },
        ],
      },
      { kind: 'existing', workspaceId: 'ws', customerId: 'C1', requests: [2], fresh: [] },
    ]);
  });

  it('leaves to sequential resolution what could merge, refuse or split', () => {
    const twoCustomers = planBatch(
      [req(['anonymous_id', 'a'], ['user_id', 'u'])],
      [known('anonymous_id', 'a', 'C1'), known('user_id', 'u', 'C2')],
      books,
      new Map(),
    );
    const overLimit = planBatch(
      [
        req(['user_id', 'u1']),
        req(['user_id', 'u2'], ['anonymous_id', 'x']),
        req(['anonymous_id', 'x'], ['user_id', 'u1']),
      ],
      [],
      books,
      new Map(),
    );
    const knownAtLimit = planBatch(
      [req(['anonymous_id', 'a'], ['user_id', 'second'])],
      [known('anonymous_id', 'a', 'C1')],
      books,
      new Map([['C1', new Map([['user_id', 1]])]]),
    );
    const alias = planBatch([req(['previous_id', 'old'], ['user_id', 'u'])], [], books, new Map());
    const unknownType = planBatch([req(['loyalty_card', '42'])], [], books, new Map());
    for (const plans of [twoCustomers, overLimit, knownAtLimit, alias, unknownType])
      expect(plans.map((p) => p.kind)).toEqual(['sequential']);
    expect(overLimit[0]!.requests).toEqual([0, 1, 2]);
  });

  it('keeps workspaces apart even for equal identifier values', () => {
    const plans = planBatch(
      [req(['user_id', 'u']), { workspaceId: 'other', identifiers: [{ type: 'user_id', value: 'u' }] }],
      [],
      new Map([...books, ['other', new RuleBook(DEFAULT_IDENTITY_RULES)]]),
      new Map(),
    );
    expect(plans.map((p) => p.kind)).toEqual(['new', 'new']);
  });
});
