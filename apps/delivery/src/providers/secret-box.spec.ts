import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('SecretBox', () => {
  const k1 = key('k1');
  const k2 = key('k2');

  it('round-trips a secret and never outputs it in clear', () => {
    const box = new SecretBox(k1);
    const sealed = box.seal({ apiKey: 'SG.very-secret' });
    expect(sealed.keyId).toBe('k1');
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.authTag).toHaveLength(16);
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('very-secret');
    expect(box.open(sealed)).toEqual({ apiKey: 'SG.very-secret' });
  });

  it('uses a fresh nonce each time', () => {
    const box = new SecretBox(k1);
    expect(Buffer.from(box.seal({ a: 1 }).iv)).not.toEqual(Buffer.from(box.seal({ a: 1 }).iv));
  });

  it('decrypts with any listed key and encrypts with the first (rotation)', () => {
    const sealedWithOld = new SecretBox(k1).seal({ token: 't' });
    const rotated = new SecretBox(`${k2},${k1}`);
    expect(rotated.open(sealedWithOld)).toEqual({ token: 't' });
    expect(rotated.seal({ token: 't' }).keyId).toBe('k2');
    expect(() => new SecretBox(k2).open(sealedWithOld)).toThrow(/key "k1".*no longer lists/);
  });

  it('refuses tampered ciphertext and a re-labelled key id', () => {
    const box = new SecretBox(`${k1},${k2}`);
    const sealed = box.seal({ token: 't' });
    const tampered = new Uint8Array(sealed.ciphertext);
    tampered[0] = tampered[0]! ^ 1;
    expect(() => box.open({ ...sealed, ciphertext: tampered })).toThrow();
    expect(() => box.open({ ...sealed, keyId: 'k2' })).toThrow();
  });

  it('rejects malformed key lists', () => {
    expect(() => new SecretBox('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => new SecretBox(`${k1},${k1}`)).toThrow(/twice/);
  });
});
