import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SealedSecret {
  ciphertext: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  keyId: string;
}

/**
 * AES-256-GCM for provider secrets at rest. Keys come from `DELIVERY_SECRET_KEYS`
 * ("<keyId>:<base64 32 bytes>,..."): the first one encrypts, every listed one decrypts, so a new
 * key is rolled out by putting it first and keeping the old ones until rows are re-saved.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(spec: string) {
    for (const entry of spec.split(',')) {
      const separator = entry.indexOf(':');
      const keyId = entry.slice(0, separator).trim();
      const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
      if (separator < 1 || key.length !== 32)
        throw new Error(`DELIVERY_SECRET_KEYS: key "${keyId}" must be "<keyId>:<base64 of 32 bytes>"`);
      if (this.keys.has(keyId)) throw new Error(`DELIVERY_SECRET_KEYS: key id "${keyId}" appears twice`);
      this.keys.set(keyId, key);
    }
    const first = this.keys.keys().next();
    if (first.done) throw new Error('DELIVERY_SECRET_KEYS: no key');
    this.currentKeyId = first.value;
  }

  seal(secret: Record<string, unknown>): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.currentKeyId), iv);
    // The key id is authenticated too, so a row cannot be re-labelled to another key unnoticed.
    cipher.setAAD(Buffer.from(this.currentKeyId));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final()]);
    // Copies into plain ArrayBuffers, the byte type Prisma takes.
    return {
      ciphertext: new Uint8Array(ciphertext),
      iv: new Uint8Array(iv),
      authTag: new Uint8Array(cipher.getAuthTag()),
      keyId: this.currentKeyId,
    };
  }

  open(sealed: SealedSecret): Record<string, unknown> {
    const decipher = createDecipheriv('aes-256-gcm', this.key(sealed.keyId), sealed.iv);
    decipher.setAAD(Buffer.from(sealed.keyId));
    decipher.setAuthTag(sealed.authTag);
    const plain = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as Record<string, unknown>;
  }

  private key(keyId: string): Buffer {
    const key = this.keys.get(keyId);
    if (!key)
      throw new Error(`secret was encrypted with key "${keyId}", which DELIVERY_SECRET_KEYS no longer lists`);
    return key;
  }
}
