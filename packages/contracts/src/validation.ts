import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 date-time; rejects dates Date.parse would roll over (2025-02-30). */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 61 &&
    !Number.isNaN(Date.parse(value))
  );
}

// TypeBox validates `format` only for registered formats.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isDateTime);
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v));

export interface ValidationIssue {
  /** JSON pointer of the offending field, e.g. `/traits/email`. */
  path: string;
  reason: string;
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<S>;
}

export type ValidationResult<S extends TSchema> =
  { ok: true; value: Static<S> } | { ok: false; issues: ValidationIssue[] };

export function validate<S extends TSchema>(schema: S, value: unknown, maxIssues = 20): ValidationResult<S> {
  const check = checker(schema);
  if (check.Check(value)) return { ok: true, value };
  const issues: ValidationIssue[] = [];
  for (const error of check.Errors(value)) {
    const path = error.path || '/';
    // TypeBox reports a missing property twice (required, then its type): keep the first.
    if (issues.some((i) => i.path === path)) continue;
    issues.push({ path, reason: error.message });
    if (issues.length >= maxIssues) break;
  }
  return { ok: false, issues };
}

export class ContractViolation extends Error {
  constructor(
    readonly contract: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`${contract}: ${issues.map((i) => `${i.path} ${i.reason}`).join('; ')}`);
    this.name = 'ContractViolation';
  }
}

export function assertValid<S extends TSchema>(contract: string, schema: S, value: unknown): Static<S> {
  const result = validate(schema, value);
  if (!result.ok) throw new ContractViolation(contract, result.issues);
  return result.value;
}
