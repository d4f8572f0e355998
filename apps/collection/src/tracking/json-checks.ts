import type { ValidationIssue } from '@cdp/contracts';
import { MAX_JSON_DEPTH } from './tracking-limits';

// NUL cannot be stored in Postgres text or jsonb, nor can an unpaired UTF-16 surrogate in jsonb.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function pointer(path: readonly string[]): string {
  return path.length ? `/${path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : '/';
}

/**
 * Finds what the schema cannot see but storage would choke on: nesting deeper than
 * MAX_JSON_DEPTH, strings Postgres cannot hold, and `__proto__` keys. Stops at the first few.
 */
export function unstorableParts(value: unknown, maxIssues = 5): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const visit = (node: unknown, path: string[]): void => {
    if (issues.length >= maxIssues) return;
    if (typeof node === 'string') {
      if (UNSTORABLE.test(node))
        issues.push({
          path: pointer(path),
          reason: 'contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored',
        });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (path.length >= MAX_JSON_DEPTH) {
      issues.push({ path: pointer(path), reason: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...path, String(i)]));
      return;
    }
    for (const [key, item] of Object.entries(node)) {
      if (issues.length >= maxIssues) return;
      if (key === '__proto__' || UNSTORABLE.test(key)) {
        issues.push({
          path: pointer([...path, key]),
          reason: 'key is __proto__, or contains a NUL character or an unpaired surrogate',
        });
        continue;
      }
      visit(item, [...path, key]);
    }
  };
  visit(value, []);
  return issues;
}

/** Size of a value as stored and published (UTF-8 JSON). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
