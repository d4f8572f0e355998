import { parseFaults } from './fault-injector';

describe('parseFaults', () => {
  it('reads first-pass, Nth-pass and probability triggers', () => {
    expect([...parseFaults('after-claim,after-provider-accept:3,before-status-publish:0.25')]).toEqual([
      ['after-claim', { pass: 1 }],
      ['after-provider-accept', { pass: 3 }],
      ['before-status-publish', { probability: 0.25 }],
    ]);
    expect(parseFaults('').size).toBe(0);
  });

  it('refuses an unknown point and a bad value', () => {
    expect(() => parseFaults('before-lunch')).toThrow('unknown point before-lunch');
    expect(() => parseFaults('after-claim:2.5')).toThrow('a pass number');
    expect(() => parseFaults('after-claim:0')).toThrow('a pass number');
  });
});
