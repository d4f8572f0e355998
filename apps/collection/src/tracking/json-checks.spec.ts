import { gzipSync } from 'node:zlib';
import { decompressedLimitOf, parseTrackingBody } from './body-parser';
import fc from 'fast-check';
import { inspectJson, jsonBytes, unstorableParts } from './json-checks';
import { MAX_BATCH_BYTES, MAX_WIRE_BYTES } from './tracking-limits';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('what storage would choke on', () => {
  it('finds NUL, unpaired surrogates, __proto__ keys and deep nesting, with their paths', () => {
    expect(unstorableParts({ ok: 'emoji 😀 and 한글', pair: '\ud83d\ude00' })).toEqual([]);
    expect(unstorableParts({ a: ['x', 'n\u0000l'] })).toEqual([
      { path: '/a/1', reason: expect.stringMatching(/NUL/) },
    ]);
    expect(unstorableParts({ b: 'x\ud800' }).map((i) => i.path)).toEqual(['/b']);
    expect(unstorableParts({ c: '\udc00x' }).map((i) => i.path)).toEqual(['/c']);
    expect(unstorableParts(JSON.parse('{"__proto__": {"admin": true}}')).map((i) => i.path)).toEqual([
      '/__proto__',
    ]);
    expect(unstorableParts({ 'a/b~': 'x\u0000' }).map((i) => i.path)).toEqual(['/a~1b~0']);
    expect(unstorableParts(nested(63))).toEqual([]);
    expect(unstorableParts(nested(1000))).toEqual([
      { path: expect.stringMatching(/^\/a\/a/), reason: 'nested deeper than 64 levels' },
    ]);
  });

  it('measures UTF-8 JSON bytes', () => {
    expect(jsonBytes({ e: '한' })).toBe(JSON.stringify({ e: '' }).length + 3);
  });
});

describe('tracking body parser', () => {
  const parse = (body: Buffer, headers: Record<string, string> = {}) =>
    parseTrackingBody({ url: '/v1/batch', headers }, body);

  it('parses plain and gzipped JSON, empty bodies as undefined', async () => {
    await expect(parse(Buffer.from('{"a":1}'))).resolves.toEqual({ a: 1 });
    await expect(parse(gzipSync('{"a":2}'), { 'content-encoding': 'gzip' })).resolves.toEqual({ a: 2 });
    await expect(parse(Buffer.alloc(0))).resolves.toBeUndefined();
  });

  it('refuses malformed JSON and gzip with 400, unknown encodings with 415, bombs with 413', async () => {
    await expect(parse(Buffer.from('{"a":'))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Malformed JSON/),
    });
    await expect(parse(Buffer.from('nope'), { 'content-encoding': 'gzip' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(parse(Buffer.from('{}'), { 'content-encoding': 'br' })).rejects.toMatchObject({
      status: 415,
    });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    await expect(parse(bomb, { 'content-encoding': 'gzip' })).rejects.toMatchObject({ status: 413 });
    await expect(parse(Buffer.alloc(MAX_BATCH_BYTES + 1, 0x20))).rejects.toMatchObject({ status: 413 });
  });

  it('holds the tracking routes to 500 KB and other routes to the wire limit', async () => {
    expect(['/v1/batch', '/v1/import', '/v1/track?x=1', '/v1/alias/'].map(decompressedLimitOf)).toEqual([
      MAX_BATCH_BYTES,
      MAX_BATCH_BYTES,
      MAX_BATCH_BYTES,
      MAX_BATCH_BYTES,
    ]);
    expect(decompressedLimitOf('/v1/operational/contracts')).toBe(MAX_WIRE_BYTES);
    const big = gzipSync(JSON.stringify({ records: 'r'.repeat(MAX_BATCH_BYTES) }));
    await expect(
      parseTrackingBody({ url: '/v1/operational/contracts', headers: { 'content-encoding': 'gzip' } }, big),
    ).resolves.toMatchObject({ records: expect.any(String) });
  });
});

describe('inspectJson size bound', () => {
  it('is never under the exact UTF-8 JSON size', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(inspectJson(value).maxBytes).toBeGreaterThanOrEqual(jsonBytes(value));
      }),
      { numRuns: 2000 },
    );
    const escapes = { 'k\n"': '\u0001\u001f"\\', big: -1.7976931348623157e308, tiny: -5e-324, u: '한😀' };
    expect(inspectJson(escapes).maxBytes).toBeGreaterThanOrEqual(jsonBytes(escapes));
  });

  it('gives up (Infinity) where the walk stops: deep nesting, __proto__ keys, toJSON', () => {
    expect(inspectJson(nested(1000)).maxBytes).toBe(Infinity);
    expect(inspectJson(JSON.parse('{"__proto__": "x"}')).maxBytes).toBe(Infinity);
    expect(inspectJson({ at: new Date() }).maxBytes).toBe(Infinity);
  });
});
