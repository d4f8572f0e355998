/**
 * docs/events.md, rendered from the AsyncAPI document `buildAsyncApi()` returns so the two can
 * never disagree. Tables are padded the way Prettier pads them, so `prettier --check` leaves the
 * file alone.
 */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Follows a local `$ref` (`#/a/b`) inside `doc`. */
function deref(doc: Obj, value: unknown): Obj {
  if (!isObj(value)) return {};
  const pointer = value.$ref;
  if (typeof pointer !== 'string') return value;
  if (!pointer.startsWith('#/')) throw new Error(`Only local references are supported: ${pointer}`);
  let node: unknown = doc;
  for (const token of pointer.slice(2).split('/')) {
    node = isObj(node) ? node[token.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  if (!isObj(node)) throw new Error(`Unresolved reference ${pointer}`);
  return deref(doc, node);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function str(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 3)).join(' | ')} |`;
  return [
    line(all[0] ?? []),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...all.slice(1).map(line),
  ].join('\n');
}

function constraints(s: Obj): string[] {
  const out: string[] = [];
  const min = s.minLength;
  const max = s.maxLength;
  if (typeof min === 'number' && typeof max === 'number') out.push(`${min}–${max} chars`);
  else if (typeof min === 'number' && min > 0) out.push(`at least ${min} char${min === 1 ? '' : 's'}`);
  else if (typeof max === 'number') out.push(`at most ${max} chars`);
  if (typeof s.pattern === 'string') out.push(`pattern ${code(s.pattern)}`);
  if (typeof s.minItems === 'number') out.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (typeof s.maxItems === 'number') out.push(`at most ${s.maxItems} items`);
  if (typeof s.minimum === 'number') out.push(`≥ ${s.minimum}`);
  if (typeof s.maximum === 'number') out.push(`≤ ${s.maximum}`);
  return out;
}

function literals(s: Obj): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if (s.const !== undefined) return [s.const];
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts) && alts.length > 0 && alts.every((a) => isObj(a) && a.const !== undefined))
    return alts.map((a) => (a as Obj).const);
  return undefined;
}

function isFreeForm(s: Obj): boolean {
  return s.type === 'object' && !isObj(s.properties);
}

function typeOf(doc: Obj, raw: unknown): string {
  const s = deref(doc, raw);
  const values = literals(s);
  if (values) return values.map((v) => code(JSON.stringify(v))).join(' | ');
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) return alts.map((a) => typeOf(doc, a)).join(' | ');
  if (s.type === 'array') {
    const item = typeOf(doc, s.items);
    return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  if (s.type === 'string' && typeof s.format === 'string') return `string (${s.format})`;
  if (isFreeForm(s)) return 'object (any keys)';
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return 'any';
}

/** One row per field, nested object fields as `parent.child`, fields of array items as `parent[].child`. */
function fieldRows(doc: Obj, schema: Obj, prefix = ''): string[][] {
  const rows: string[][] = [];
  const properties = isObj(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [name, raw] of Object.entries(properties)) {
    const s = deref(doc, raw);
    const path = `${prefix}${name}`;
    const notes = [typeof s.description === 'string' ? s.description : '', ...constraints(s)].filter(Boolean);
    rows.push([code(path), typeOf(doc, s), required.has(name) ? 'yes' : 'no', notes.join('; ')]);
    if (s.type === 'object' && isObj(s.properties)) rows.push(...fieldRows(doc, s, `${path}.`));
    if (s.type === 'array') {
      const item = deref(doc, s.items);
      if (item.type === 'object' && isObj(item.properties)) rows.push(...fieldRows(doc, item, `${path}[].`));
    }
  }
  return rows;
}

function payloadSection(doc: Obj, heading: string, message: Obj): string[] {
  const payload = deref(doc, message.payload);
  const out = [heading, ''];
  if (typeof payload.description === 'string') out.push(`${payload.description}.`.replace(/\.\.$/, '.'), '');
  out.push(table(['Field', 'Type', 'Required', 'Description'], fieldRows(doc, payload)), '');
  return out;
}

interface EventRow {
  subject: string;
  producer: string;
  consumers: string[];
  stream: string;
  version: number;
  summary: string;
  message: Obj;
}

export function renderEventsMarkdown(document: object): string {
  const doc = document as Obj;
  const channels = (isObj(doc.channels) ? doc.channels : {}) as Record<string, Obj>;
  const operations = Object.values((isObj(doc.operations) ? doc.operations : {}) as Record<string, Obj>);
  const streams = (isObj(doc['x-streams']) ? doc['x-streams'] : {}) as Record<string, Obj>;

  const services = (channel: string, action: string, message: unknown): string[] =>
    operations
      .filter((op) => op.action === action && deref(doc, op.channel) === channels[channel] && !op.reply)
      .filter((op) =>
        (Array.isArray(op.messages) ? op.messages : []).some((m) => deref(doc, m) === deref(doc, message)),
      )
      .map((op) => str(op['x-service']));

  const events: EventRow[] = [];
  const rpcs: {
    subject: string;
    responders: string[];
    version: number;
    summary: string;
    request: Obj;
    reply: Obj;
  }[] = [];
  for (const [id, channel] of Object.entries(channels)) {
    const address = channel.address;
    if (typeof address !== 'string' || id === 'deadLetter') continue;
    const subject = address.replace('{workspaceId}', '<workspaceId>');
    for (const raw of Object.values(isObj(channel.messages) ? channel.messages : {})) {
      const message = deref(doc, raw);
      const version = Number(message['x-version']);
      if (typeof channel['x-stream'] === 'string') {
        events.push({
          subject,
          producer: services(id, 'send', raw).join(', '),
          consumers: services(id, 'receive', raw),
          stream: channel['x-stream'],
          version,
          summary: str(message.summary),
          message,
        });
        continue;
      }
      const ops = operations.filter((op) => op.reply && deref(doc, op.channel) === channel);
      const replyRaw = ops.flatMap((op) => ((op.reply as Obj).messages as unknown[]) ?? [])[0];
      rpcs.push({
        subject,
        responders: ops.map((op) => str(op['x-service'])),
        version,
        summary: str(message.summary),
        request: message,
        reply: deref(doc, replyRaw),
      });
    }
  }

  const info = isObj(doc.info) ? doc.info : {};
  const out: string[] = [
    '# CDP events',
    '',
    '<!-- Generated by `pnpm asyncapi` (packages/contracts/src/asyncapi/generate.ts) from @cdp/contracts. Do not edit by hand. -->',
    '',
    `Subjects, payloads and who publishes or reads them, for contracts version ${str(info.version)}. The machine-readable form is [asyncapi.json](asyncapi.json) (AsyncAPI ${str(doc.asyncapi)}); naming, streams and the versioning policy are explained in [packages/contracts/README.md](../packages/contracts/README.md).`,
    '',
    'A full subject is `[<prefix>.]<name>.<workspaceId>`; the prefix is only used by parallel test runs. Every event carries `Cdp-Schema: <name>/v<version>` and `Nats-Msg-Id` (JetStream deduplication) headers.',
    '',
    '## Event subjects',
    '',
    table(
      ['Subject', 'Producer', 'Consumers', 'Stream', 'Version', 'Summary'],
      events.map((e) => [
        code(e.subject),
        e.producer,
        e.consumers.join(', ') || '—',
        code(e.stream),
        String(e.version),
        e.summary,
      ]),
    ),
    '',
    '## Request/reply subjects',
    '',
    'Core NATS request/reply, never on a stream.',
    '',
    table(
      ['Subject', 'Responder', 'Version', 'Summary'],
      rpcs.map((r) => [code(r.subject), r.responders.join(', '), String(r.version), r.summary]),
    ),
    '',
    '## Streams',
    '',
    table(
      ['Stream', 'Subjects', 'Kept', 'Description'],
      Object.entries(streams).map(([name, s]) => [
        code(name),
        (Array.isArray(s.subjects) ? s.subjects : []).map((x) => code(str(x))).join(', '),
        `${str(s.maxAgeDays)} days`,
        str(s.description),
      ]),
    ),
    '',
    'Stream names get the run prefix too (`<prefix>_CDP_EVENTS`).',
    '',
    '## Dead letters',
    '',
    'A consumer that gives up on a message publishes it unchanged to `cdp.dlq.<service>.<entity>.<action>.<workspaceId>` (stream `CDP_DLQ`) with the reason in the `Cdp-Dlq-Reason` header; `<entity>.<action>` is the original subject name without `cdp.`.',
    '',
    '## Payloads',
    '',
    "Event and request payloads are open JSON objects (unknown fields are ignored by consumers) whose `workspaceId` repeats the subject's workspace token.",
    '',
  ];
  for (const e of events) out.push(...payloadSection(doc, `### ${code(e.subject)} v${e.version}`, e.message));
  for (const r of rpcs) {
    out.push(...payloadSection(doc, `### ${code(r.subject)} v${r.version} request`, r.request));
    out.push(...payloadSection(doc, `### ${code(r.subject)} v${r.version} reply`, r.reply));
  }
  return `${out.join('\n').trimEnd()}\n`;
}
