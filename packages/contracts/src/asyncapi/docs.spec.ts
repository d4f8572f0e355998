import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcSubjects, Streams, Subjects } from '../subjects';
import { buildAsyncApi } from './build';
import { consumersOf } from './consumers';
import { asyncApiJson, generate } from './generate';
import { renderEventsMarkdown } from './markdown';

const docs = join(__dirname, '..', '..', '..', '..', 'docs');
const regenerate =
  'stale: run `pnpm asyncapi` (in packages/contracts or the repository root) and commit the result';

describe('docs/ is generated from the contracts', () => {
  it.each([
    ['asyncapi.json', () => asyncApiJson()],
    ['events.md', () => renderEventsMarkdown(buildAsyncApi())],
  ])('docs/%s is up to date', (file, render) => {
    const path = join(docs, file);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : '(missing)';
    if (current !== render()) throw new Error(`docs/${file} is ${regenerate}`);
  });
});

describe('generate()', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cdp-asyncapi-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 2-space JSON with a trailing newline and events.md beside it', () => {
    const written = generate(join(dir, 'out', 'asyncapi.json'));
    expect(written).toEqual([join(dir, 'out', 'asyncapi.json'), join(dir, 'out', 'events.md')]);
    const json = readFileSync(written[0]!, 'utf8');
    expect(json).toBe(`${JSON.stringify(buildAsyncApi(), null, 2)}\n`);
    expect(json.split('\n')[1]).toBe('  "asyncapi": "3.0.0",');
    expect(readFileSync(written[1]!, 'utf8')).toBe(renderEventsMarkdown(buildAsyncApi()));
  });

  it('takes the markdown path as a second argument', () => {
    const written = generate(join(dir, 'a.json'), join(dir, 'md', 'catalogue.md'));
    expect(written[1]).toBe(join(dir, 'md', 'catalogue.md'));
    expect(existsSync(join(dir, 'events.md'))).toBe(false);
  });
});

describe('events.md', () => {
  const md = renderEventsMarkdown(buildAsyncApi());
  const row = (cells: string[]) =>
    new RegExp(
      `^\\| ${cells.map((c) => `${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*`).join('\\| ')}\\|`,
      'm',
    );

  it.each(Object.values(Subjects).map((s) => [s.name, s] as const))(
    'lists %s with producer, consumers, stream and version',
    (name, s) => {
      const consumers = consumersOf(s).join(', ') || '—';
      expect(md).toMatch(
        row([
          `\`${name}.<workspaceId>\``,
          s.producer,
          consumers,
          `\`${Streams[s.stream].name}\``,
          String(s.version),
          s.summary,
        ]),
      );
      expect(md).toContain(`### \`${name}.<workspaceId>\` v${s.version}\n`);
    },
  );

  it('lists the request/reply subjects and their fields', () => {
    for (const r of Object.values(RpcSubjects)) {
      expect(md).toMatch(row([`\`${r.name}.<workspaceId>\``, r.responder, String(r.version), r.summary]));
      expect(md).toContain(`### \`${r.name}.<workspaceId>\` v${r.version} request`);
      expect(md).toContain(`### \`${r.name}.<workspaceId>\` v${r.version} reply`);
    }
    expect(md).toMatch(row(['`identifier.value`', 'string', 'yes']));
    expect(md).toMatch(
      row(['`customer.lifecycleStage`', '`"potential"` \\| `"prospect"` \\| `"contracted"`', 'yes']),
    );
  });

  it('describes payload fields with type, required flag and description', () => {
    expect(md).toMatch(
      row([
        '`workspaceId`',
        'string',
        'yes',
        'Workspace (tenant) id; 1–64 chars; pattern `^[A-Za-z0-9_-]+$`',
      ]),
    );
    expect(md).toMatch(
      row(['`timestamp`', 'string (date-time)', 'yes', 'ISO-8601 timestamp with time zone']),
    );
    expect(md).toMatch(
      row(['`journeyStage`', '`"inflow"` \\| `"explore_compare"` \\| `"purchase"` \\| `"use"`', 'no']),
    );
    expect(md).toMatch(row(['`template.body`', 'string', 'yes']));
    expect(md).toMatch(row(['`mergedIds`', 'string[]', 'yes', 'at least 1 item']));
    expect(md).toMatch(row(['`properties`', 'object (any keys)', 'no']));
  });

  it('pads table columns evenly (Prettier leaves the file alone)', () => {
    const tables = md
      .trimEnd()
      .split('\n\n')
      .filter((block) => block.startsWith('| '));
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables) {
      const lengths = new Set(t.split('\n').map((l) => l.length));
      expect([t.split('\n')[0], lengths.size]).toEqual([t.split('\n')[0], 1]);
    }
  });
});
