import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { FormatRegistry } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * RFC 3339 date-time that Date.parse reads as written: no rolled-over dates (2025-02-30), no leap
 * second, offsets under 24 h. Checked by hand because it runs several times per tracked event and
 * Date.parse costs more than the rest of a call's validation.
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return (
    days !== undefined &&
    day >= 1 &&
    day <= days &&
    Number(m[4]) < 24 &&
    Number(m[5]) < 60 &&
    Number(m[6]) < 60 &&
    (m[7] === undefined || (Number(m[7]) < 24 && Number(m[8]) < 60))
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

/** What a value must be to match `schema`, for people: `"sms"`, `a string`, `a date-time string`. */
function describeSchema(schema: TSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const type = schema.type as string | undefined;
  if (type === 'string' && schema.format) return `a ${String(schema.format)} string`;
  if (type === 'array' || type === 'object' || type === 'integer') return `an ${type}`;
  if (type === 'null') return 'null';
  return type ? `a ${type}` : 'another shape';
}

/**
 * TypeBox says only "Expected union value" when a value matches none of a union's members, which
 * leaves the caller guessing; name the allowed values (an enum) or the allowed types instead.
 */
function reasonFor(error: ValueError): string {
  const members = error.schema.anyOf as TSchema[] | undefined;
  if (error.type !== ValueErrorType.Union || !members?.length) return error.message;
  if (members.every((m) => m.const !== undefined))
    return `must be one of ${members.map((m) => JSON.stringify(m.const)).join(', ')}`;
  const kinds = [...new Set(members.map(describeSchema))];
  return `must be ${kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}` : kinds[0]}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The issues of a value that matches none of a union of objects told apart by their `type`
 * (e.g. segment conditions): those of the member its `type` names, at their own paths, or an
 * unknown `type` named as such, instead of one issue for the whole value.
 */
function discriminatedIssues(error: ValueError, references: TSchema[]): ValidationIssue[] | undefined {
  const members = error.schema.anyOf as TSchema[] | undefined;
  if (error.type !== ValueErrorType.Union || !members?.length || !isRecord(error.value)) return undefined;
  const tags: unknown[] = members.map(
    (m) => (m.properties as Record<string, TSchema> | undefined)?.type?.const as unknown,
  );
  if (tags.some((t) => typeof t !== 'string')) return undefined;
  const member = members[tags.indexOf(error.value.type)];
  if (!member)
    return [
      {
        path: `${error.path}/type`,
        reason: `must be one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`,
      },
    ];
  const refs = error.schema.$id ? [...references, error.schema] : references;
  return [...Value.Errors(member, refs, error.value)].flatMap((inner) =>
    issuesFor({ ...inner, path: `${error.path}${inner.path}` }, refs),
  );
}

function issuesFor(error: ValueError, references: TSchema[] = []): ValidationIssue[] {
  return discriminatedIssues(error, references) ?? [{ path: error.path || '/', reason: reasonFor(error) }];
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
    for (const issue of issuesFor(error)) {
      // TypeBox reports a missing property twice (required, then its type): keep the first.
      if (issues.some((i) => i.path === issue.path)) continue;
      issues.push(issue);
    }
    if (issues.length >= maxIssues) break;
  }
  return { ok: false, issues };
}

/** Issues as one line, for logs, errors and dead-letter headers: `/a must be ...; /b ...`. */
export function issuesText(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.path} ${i.reason}`).join('; ');
}

export class ContractViolation extends Error {
  constructor(
    readonly contract: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`${contract}: ${issuesText(issues)}`);
    this.name = 'ContractViolation';
  }
}

export function assertValid<S extends TSchema>(contract: string, schema: S, value: unknown): Static<S> {
  const result = validate(schema, value);
  if (!result.ok) throw new ContractViolation(contract, result.issues);
  return result.value;
}
