import { identifiersOf, PREVIOUS_ID } from './identifiers';
import { DEFAULT_IDENTITY_RULES, RuleBook } from './identity-rules';
import { NationalIdHasher, stripNationalId } from './national-id';

const hasher = new NationalIdHasher('unit-test-master-secret-0123456789abcdef');

describe('identifiersOf', () => {
  it('reads user, anonymous, alias, e-mail, phone, device, external and national identifiers', () => {
    const ids = identifiersOf(
      {
        workspaceId: 'ws-1',
        type: 'alias',
        userId: 'u1',
        anonymousId: 'a1',
        previousId: 'a0',
        traits: {
          email: 'A@B.co',
          externalIds: [{ type: 'crm', id: 42, collection: 'users' }, { id: 'no-type' }],
        },
        context: { device: { id: 'd1' }, traits: { phone: '010-1234-5678', nationalId: '900101-1234567' } },
      },
      hasher,
    );
    expect(ids).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'anonymous_id', value: 'a1' },
      { type: PREVIOUS_ID, value: 'a0' },
      { type: 'email', value: 'a@b.co' },
      { type: 'phone', value: '01012345678' },
      { type: 'device_id', value: 'd1' },
      { type: 'external_key', value: 'crm:42' },
      { type: 'national_id_hmac', value: hasher.hash('ws-1', '9001011234567') },
    ]);
  });

  it('ignores previousId outside alias calls and refuses a national ID without the workspace key', () => {
    expect(identifiersOf({ type: 'track', previousId: 'p', userId: 'u' })).toEqual([
      { type: 'user_id', value: 'u' },
    ]);
    expect(() => identifiersOf({ workspaceId: 'w', traits: { nationalId: '1' } })).toThrow(/workspace key/);
  });
});

describe('NationalIdHasher', () => {
  it('derives one key per workspace and ignores formatting', () => {
    expect(hasher.hash('w1', '900101-1234567')).toBe(hasher.hash('w1', '900101 1234567'));
    expect(hasher.hash('w1', '900101-1234567')).not.toBe(hasher.hash('w2', '900101-1234567'));
    expect(hasher.hash('w1', '900101-1234567')).not.toBe(
      new NationalIdHasher('another-master-secret-0123456789abcdef').hash('w1', '900101-1234567'),
    );
    expect(() => new NationalIdHasher('short')).toThrow(/32/);
  });
});

describe('stripNationalId', () => {
  it('removes the raw value from traits, context.traits and properties and leaves the rest', () => {
    const call = {
      traits: { nationalId: 'x', a: 1 },
      context: { traits: { nationalId: 'x' }, ip: '1.2.3.0' },
      properties: { nationalId: 'x' },
      userId: 'u',
    };
    expect(stripNationalId(call)).toEqual({
      traits: { a: 1 },
      context: { traits: {}, ip: '1.2.3.0' },
      properties: {},
      userId: 'u',
    });
    expect(stripNationalId({ traits: { a: 1 } })).toEqual({ traits: { a: 1 } });
  });
});

describe('RuleBook', () => {
  it('counts external keys per system and leaves unknown types unlimited and not mergeable', () => {
    const book = new RuleBook(DEFAULT_IDENTITY_RULES);
    expect(book.limitScope('external_key', 'crm:1')).not.toBe(book.limitScope('external_key', 'erp:1'));
    expect(book.limitOf(book.limitScope('external_key', 'crm:1'))).toBe(1);
    expect(book.limitOf('email')).toBe(5);
    expect(book.rule('loyalty_card')).toMatchObject({ maxPerCustomer: null, mergeable: false });
  });
});
