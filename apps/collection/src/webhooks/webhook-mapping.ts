import type { FieldSpec, WebhookMapping } from '@cdp/contracts';

export function valueAt(root: unknown, path: string): unknown {
  let current = root;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function field(spec: FieldSpec | undefined, item: unknown): unknown {
  if (!spec) return undefined;
  return 'const' in spec ? spec.const : valueAt(item, spec.path);
}

function fields(
  map: Record<string, FieldSpec> | undefined,
  item: unknown,
): Record<string, unknown> | undefined {
  if (!map) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(map)) {
    const value = field(spec, item);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The Segment calls a webhook payload stands for under a mapping (not yet validated). */
export function mapWebhook(mapping: WebhookMapping, payload: unknown): Array<Record<string, unknown>> {
  const items = mapping.items === undefined ? [payload] : valueAt(payload, mapping.items);
  if (!Array.isArray(items)) return [];
  return items.map((item) => {
    const call: Record<string, unknown> = { type: mapping.type };
    for (const key of ['messageId', 'userId', 'anonymousId', 'event', 'timestamp'] as const) {
      const value = field(mapping[key], item);
      if (value !== undefined)
        call[key] = typeof value === 'number' && key !== 'timestamp' ? String(value) : value;
    }
    for (const key of ['properties', 'traits', 'context'] as const) {
      const value = fields(mapping[key], item);
      if (value && Object.keys(value).length) call[key] = value;
    }
    return call;
  });
}
