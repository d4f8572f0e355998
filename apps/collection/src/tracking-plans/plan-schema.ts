import Ajv, { type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export interface PlanIssue {
  path: string;
  reason: string;
}

export type CompiledSchema = { ok: true; validate: ValidateFunction } | { ok: false; issue: PlanIssue };

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;

/**
 * Compiles a rule's JSON Schema with ajv: draft 2020-12 unless its `$schema` names draft-07. One
 * ajv instance per schema, so a workspace's `$id`s never meet another's and nothing accumulates in
 * a shared ajv cache. Unknown keywords and formats are errors (a typo like `requierd` would
 * otherwise check nothing); `allErrors` so a call lists all its violations, not just the first.
 * Nothing is fetched: a `$ref` to anything outside the schema is a compile error. The issue path
 * points into the rule body (`/schema/...`).
 */
export function compileSchema(schema: unknown): CompiledSchema {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema)))
    return { ok: false, issue: { path: '/schema', reason: 'must be a JSON Schema object or boolean' } };
  const declared = typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined;
  const draft07 = typeof declared === 'string' && DRAFT_07.test(declared);
  const options = {
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    validateFormats: true,
  } as const;
  const ajv = draft07 ? new Ajv(options) : new Ajv2020(options);
  addFormats(ajv);
  try {
    // Checking against the meta-schema first gives ajv's structured errors, with the broken part's path.
    if (!ajv.validateSchema(schema)) {
      const first = ajv.errors?.[0];
      return {
        ok: false,
        issue: first
          ? {
              path: `/schema${first.instancePath}`,
              reason: `${first.message ?? 'is invalid'}${paramsHint(first)}`,
            }
          : { path: '/schema', reason: 'is not a valid JSON Schema' },
      };
    }
    return { ok: true, validate: ajv.compile(schema as AnySchema) };
  } catch (error) {
    // Unknown keywords, formats and meta-schemas, unresolvable $refs: ajv names them only in its message.
    return {
      ok: false,
      issue: { path: '/schema', reason: error instanceof Error ? error.message : String(error) },
    };
  }
}

function paramsHint(error: ErrorObject): string {
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  return Array.isArray(allowed) ? `: ${allowed.join(', ')}` : '';
}

/**
 * ajv's errors as issues with paths into the call: `at` is where the checked object sits in it
 * (`/properties` or `/traits`). A missing or unexpected key is named in the path itself.
 */
export function issuesOf(errors: ErrorObject[] | null | undefined, at: string): PlanIssue[] {
  if (!errors) return [];
  return errors.map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && params.missingProperty !== undefined)
      return {
        path: `${at}${e.instancePath}/${escapePointer(params.missingProperty)}`,
        reason: 'is required',
      };
    if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined)
      return {
        path: `${at}${e.instancePath}/${escapePointer(params.additionalProperty)}`,
        reason: 'is not allowed by the tracking plan',
      };
    return { path: `${at}${e.instancePath}`, reason: `${e.message ?? 'is invalid'}${paramsHint(e)}` };
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
