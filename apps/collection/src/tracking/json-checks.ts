import type { ValidationIssue } from '@cdp/contracts';
import { MAX_JSON_DEPTH } from './tracking-limits';

// NUL cannot be stored in Postgres text or jsonb, nor can an unpaired UTF-16 surrogate in jsonb.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Longest JSON text of a number (-1.7976931348623157e+308 is 24 characters). */
const MAX_NUMBER_BYTES = 32;
/** A UTF-16 code unit takes at most 6 bytes in JSON (\uXXXX); a pair takes 4 in UTF-8. */
const MAX_BYTES_PER_CHAR = 6;

function pointer(path: readonly string[]): string {
  return path.length ? `/${path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : '/';
}

export interface JsonInspection {
  /** What the schema cannot see but storage would choke on (the first few). */
  issues: ValidationIssue[];
  /**
   * An upper bound of the value's UTF-8 JSON size, found in the same walk; Infinity when the walk
   * could not bound it. Where it is under a limit, the exact size (a JSON.stringify) is not needed.
   */
  maxBytes: number;
}

/**
 * One walk over a parsed JSON value: nesting deeper than MAX_JSON_DEPTH, strings Postgres cannot
 * hold, `__proto__` keys, and a bound of its size. It runs on every tracked call, so the path is
 * one array pushed and popped, and JSON pointers are built only for issues.
 */
export function inspectJson(value: unknown, maxIssues = 5): JsonInspection {
  const issues: ValidationIssue[] = [];
  const path: string[] = [];
  let maxBytes = 0;
  const report = (reason: string) => {
    if (issues.length < maxIssues) issues.push({ path: pointer(path), reason });
  };
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      maxBytes += MAX_BYTES_PER_CHAR * node.length + 2;
      if (issues.length < maxIssues && UNSTORABLE.test(node))
        report('contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored');
      return;
    }
    if (typeof node === 'number') {
      maxBytes += MAX_NUMBER_BYTES;
      return;
    }
    if (node === null || typeof node !== 'object') {
      maxBytes += 5; // true, false, null
      return;
    }
    if (path.length >= MAX_JSON_DEPTH) {
      maxBytes = Infinity;
      report(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    if (typeof (node as { toJSON?: unknown }).toJSON === 'function') maxBytes = Infinity;
    if (Array.isArray(node)) {
      maxBytes += 2 + node.length;
      for (let i = 0; i < node.length; i++) {
        path.push(String(i));
        visit(node[i]);
        path.pop();
      }
      return;
    }
    maxBytes += 2;
    for (const key of Object.keys(node)) {
      maxBytes += MAX_BYTES_PER_CHAR * key.length + 4; // quotes, colon, comma
      path.push(key);
      if (key === '__proto__' || UNSTORABLE.test(key)) {
        report('key is __proto__, or contains a NUL character or an unpaired surrogate');
        maxBytes = Infinity; // its value is not walked
      } else visit((node as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  visit(value);
  return { issues, maxBytes };
}

/** What storage would choke on in a parsed JSON value (see inspectJson). */
export function unstorableParts(value: unknown, maxIssues = 5): ValidationIssue[] {
  return inspectJson(value, maxIssues).issues;
}

/** Size of a value as stored and published (UTF-8 JSON). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
