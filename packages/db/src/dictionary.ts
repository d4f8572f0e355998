// The data dictionary: every data item is defined once, by the `///` comments of
// prisma/schema.prisma. This module reads them through Prisma's own parser (getDMMF from
// @prisma/internals, a devDependency: dictionary tooling only, not exported from the package
// index), checks that nothing is undocumented, and renders docs/data-dictionary.md.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';

/** packages/db (same from src/ and dist/). */
const PACKAGE_DIR = path.resolve(__dirname, '..');
export const SCHEMA_PATH = path.join(PACKAGE_DIR, 'prisma', 'schema.prisma');
export const DICTIONARY_PATH = path.resolve(PACKAGE_DIR, '..', '..', 'docs', 'data-dictionary.md');

/** The department that owns customer data overall. */
export const OVERALL_OWNER_DEPARTMENT = 'Customer Data Office';
/** Services that may own (produce) a table. */
export const OWNER_SERVICES = ['collection', 'analysis', 'campaign', 'delivery'] as const;
export type OwnerService = (typeof OWNER_SERVICES)[number];

/** Last line of every model's doc comment: `@owner <service> @department <department>`. */
const OWNER_LINE = /^@owner\s+(\S+)\s+@department\s+(\S.*?)\s*$/;

// The subset of Prisma's DMMF this module reads.
interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt?: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: readonly [string, readonly string[]] | null;
  relationFromFields?: readonly string[];
  relationToFields?: readonly string[];
  relationOnDelete?: string;
  documentation?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: readonly DmmfField[];
  documentation?: string;
}
interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: readonly { name: string; dbName: string | null }[];
  documentation?: string;
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'normal' | 'unique' | 'fulltext';
  name?: string;
  dbName?: string;
  fields: readonly { name: string; sortOrder?: 'asc' | 'desc' }[];
}
interface DmmfDatamodel {
  models: readonly DmmfModel[];
  enums: readonly DmmfEnum[];
  indexes?: readonly DmmfIndex[];
}

export interface ColumnDoc {
  /** Prisma field name (camelCase). */
  field: string;
  /** PostgreSQL column name. */
  column: string;
  /** PostgreSQL type, e.g. `timestamptz(3)`, `text[]`, `enum lifecycle_stage`. */
  type: string;
  nullable: boolean;
  /** Default, e.g. `now()`, `'{}'`, `potential`; undefined when none. */
  default?: string;
  definition: string;
}

export interface RelationDoc {
  /** Prisma relation field (no column). */
  field: string;
  /** Target model. */
  target: string;
  /** `many`, `one` or `optional`. */
  cardinality: 'many' | 'one' | 'optional';
  /** Foreign key, for the side that holds it: `customer_id -> customers.id (on delete Cascade)`. */
  foreignKey?: string;
  definition: string;
}

export interface TableDoc {
  model: string;
  table: string;
  description: string;
  /** Undefined when the model's doc comment lacks a valid owner line. */
  owner?: string;
  department?: string;
  columns: ColumnDoc[];
  relations: RelationDoc[];
  primaryKey: string[];
  uniques: string[][];
  indexes: string[][];
  /** Undocumented items found while reading the model. */
  problems: string[];
}

export interface EnumDoc {
  name: string;
  dbName: string;
  description: string;
  values: string[];
}

export interface SchemaDoc {
  tables: TableDoc[];
  enums: EnumDoc[];
}

const DEFAULT_PG_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'decimal(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3)',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function oneLine(text: string | undefined): string {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

function columnType(f: DmmfField, enums: Map<string, DmmfEnum>): string {
  let t: string;
  if (f.kind === 'enum') t = `enum ${enums.get(f.type)?.dbName ?? f.type}`;
  else if (f.nativeType) {
    const [name, args] = f.nativeType;
    t = `${name.toLowerCase()}${args.length ? `(${args.join(',')})` : ''}`;
  } else t = DEFAULT_PG_TYPES[f.type] ?? f.type;
  return f.isList ? `${t}[]` : t;
}

function defaultValue(f: DmmfField): string | undefined {
  if (f.isUpdatedAt) return 'set on every update';
  if (!f.hasDefaultValue) return undefined;
  const d = f.default;
  if (d && typeof d === 'object' && !Array.isArray(d) && 'name' in d) {
    const name = String(d.name);
    return name === 'dbgenerated' ? 'database-generated' : `${name}()`;
  }
  if (f.type === 'Json' || typeof d === 'string') return f.kind === 'enum' ? String(d) : `'${String(d)}'`;
  return JSON.stringify(d);
}

/** Splits a model's documentation into description and owner line. */
export function parseModelDocumentation(doc: string | undefined): {
  description: string;
  owner?: string;
  department?: string;
} {
  const lines = (doc ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1);
  const m = last === undefined ? null : OWNER_LINE.exec(last);
  if (!m) return { description: oneLine(lines.join('\n')) };
  return { description: oneLine(lines.slice(0, -1).join('\n')), owner: m[1], department: m[2] };
}

function describe(datamodel: DmmfDatamodel): SchemaDoc {
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  const tableOf = (model: string) => models.get(model)?.dbName ?? model;
  const columnOf = (model: string, field: string) =>
    models.get(model)?.fields.find((f) => f.name === field)?.dbName ?? field;
  const indexCols = (model: string, ix: DmmfIndex) =>
    ix.fields.map((f) => `${columnOf(model, f.name)}${f.sortOrder === 'desc' ? ' DESC' : ''}`);

  const tables = datamodel.models.map((m): TableDoc => {
    const problems: string[] = [];
    const { description, owner, department } = parseModelDocumentation(m.documentation);
    if (!description) problems.push(`model ${m.name}: no description (/// comment above the model)`);
    if (!owner || !department) {
      problems.push(
        `model ${m.name}: doc comment must end with "/// @owner <service> @department <department>"`,
      );
    } else if (!(OWNER_SERVICES as readonly string[]).includes(owner)) {
      problems.push(`model ${m.name}: @owner "${owner}" is not one of ${OWNER_SERVICES.join('|')}`);
    }
    const columns: ColumnDoc[] = [];
    const relations: RelationDoc[] = [];
    for (const f of m.fields) {
      const definition = oneLine(f.documentation);
      if (!definition)
        problems.push(`field ${m.name}.${f.name}: no description (/// comment above the field)`);
      if (f.kind === 'object') {
        const from = f.relationFromFields ?? [];
        const to = f.relationToFields ?? [];
        const foreignKey = from.length
          ? `(${from.map((x) => columnOf(m.name, x)).join(', ')}) -> ${tableOf(f.type)}(${to
              .map((x) => columnOf(f.type, x))
              .join(', ')}), on delete ${f.relationOnDelete ?? 'default'}`
          : undefined;
        relations.push({
          field: f.name,
          target: f.type,
          cardinality: f.isList ? 'many' : f.isRequired ? 'one' : 'optional',
          ...(foreignKey ? { foreignKey } : {}),
          definition,
        });
        continue;
      }
      const dflt = defaultValue(f);
      columns.push({
        field: f.name,
        column: f.dbName ?? f.name,
        type: columnType(f, enums),
        nullable: !f.isRequired,
        ...(dflt !== undefined ? { default: dflt } : {}),
        definition,
      });
    }
    const ix = (datamodel.indexes ?? []).filter((i) => i.model === m.name);
    return {
      model: m.name,
      table: m.dbName ?? m.name,
      description,
      ...(owner ? { owner } : {}),
      ...(department ? { department } : {}),
      columns,
      relations,
      primaryKey: ix.filter((i) => i.type === 'id').flatMap((i) => indexCols(m.name, i)),
      uniques: ix.filter((i) => i.type === 'unique').map((i) => indexCols(m.name, i)),
      indexes: ix.filter((i) => i.type === 'normal').map((i) => indexCols(m.name, i)),
      problems,
    };
  });

  const enumDocs = datamodel.enums.map((e): EnumDoc => ({
    name: e.name,
    dbName: e.dbName ?? e.name,
    description: oneLine(e.documentation),
    values: e.values.map((v) => v.dbName ?? v.name),
  }));
  return { tables, enums: enumDocs };
}

/** Parses Prisma schema source text into the dictionary model. */
export async function parseSchemaDoc(datamodel: string): Promise<SchemaDoc> {
  const dmmf = await getDMMF({ datamodel });
  const model: DmmfDatamodel = dmmf.datamodel;
  return describe(model);
}

/** Reads and parses prisma/schema.prisma (or another schema file). */
export async function readSchemaDoc(schemaPath: string = SCHEMA_PATH): Promise<SchemaDoc> {
  return parseSchemaDoc(await readFile(schemaPath, 'utf8'));
}

/** Everything undocumented or without a valid owner; empty when the schema is complete. */
export function findDocumentationProblems(doc: SchemaDoc): string[] {
  return [
    ...doc.tables.flatMap((t) => t.problems),
    ...doc.enums.filter((e) => !e.description).map((e) => `enum ${e.name}: no description`),
  ];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cols(list: string[]): string {
  return `\`(${list.join(', ')})\``;
}

/**
 * Canonical form for comparing a dictionary file with a fresh rendering: table padding is
 * ignored, so the check survives `prettier --write` (which aligns Markdown table columns).
 */
export function normalizeMarkdown(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) return line.trimEnd();
      if (/^\|(\s*:?-+:?\s*\|)+\s*$/.test(line)) return '|---|';
      return line.replace(/\s*\|\s*/g, ' | ').trim();
    })
    .join('\n')
    .trim();
}

/** Renders the Markdown data dictionary (deterministic: no timestamps). */
export function renderDataDictionary(doc: SchemaDoc): string {
  const out: string[] = [];
  const tables = [...doc.tables];
  out.push(
    '# Customer data dictionary',
    '',
    '<!-- Generated from packages/db/prisma/schema.prisma by `pnpm --filter @cdp/db dictionary`. Do not edit: change the `///` comments in the schema and regenerate. -->',
    '',
    `**Overall owner of customer data: ${OVERALL_OWNER_DEPARTMENT}.** Each table below also has an`,
    'owning service (the system that produces and writes it) and an accountable department.',
    '',
    'Conventions: every row carries `workspace_id` (the tenant), except `workspaces` itself; ids are',
    'UUID strings except `events.id` (bigint identity); timestamps are `timestamptz(3)` (UTC instants).',
    'National identifiers are never stored in clear: only as an HMAC in `identities` (type `national_id_hmac`).',
    '',
    '## Ownership',
    '',
    '| Table | Model | Owning service | Accountable department |',
    '|---|---|---|---|',
    ...tables.map(
      (t) => `| [\`${t.table}\`](#${t.table}) | ${t.model} | ${t.owner ?? '?'} | ${t.department ?? '?'} |`,
    ),
    '',
    '## Tables',
    '',
  );
  for (const t of tables) {
    out.push(
      `### ${t.table}`,
      '',
      `- **Model:** \`${t.model}\``,
      `- **Owning service:** ${t.owner ?? '?'}`,
      `- **Accountable department:** ${t.department ?? '?'}`,
      `- **Description:** ${t.description}`,
      `- **Primary key:** ${cols(t.primaryKey)}`,
    );
    if (t.uniques.length) out.push(`- **Unique:** ${t.uniques.map(cols).join('; ')}`);
    if (t.indexes.length) out.push(`- **Indexes:** ${t.indexes.map(cols).join('; ')}`);
    out.push(
      '',
      '| Column | Type | Nullable | Default | Definition |',
      '|---|---|---|---|---|',
      ...t.columns.map(
        (c) =>
          `| \`${c.column}\` | \`${c.type}\` | ${c.nullable ? 'yes' : 'no'} | ${c.default ? `\`${cell(c.default)}\`` : ''} | ${cell(c.definition)} |`,
      ),
      '',
    );
    const fks = t.relations.filter((r) => r.foreignKey);
    if (fks.length) {
      out.push('References:', '', ...fks.map((r) => `- \`${r.foreignKey}\`: ${r.definition}`), '');
    }
  }
  out.push('## Enumerations', '', '| Type | Values | Definition |', '|---|---|---|');
  for (const e of doc.enums)
    out.push(`| \`${e.dbName}\` | ${e.values.map((v) => `\`${v}\``).join(', ')} | ${cell(e.description)} |`);
  out.push('');
  return out.join('\n');
}
