import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Variables every service reads. Services extend this with their own. */
export const BaseConfigSchema = {
  PORT: Type.Integer({ minimum: 1, maximum: 65535, description: 'HTTP port' }),
  HOST: Type.String({ default: '0.0.0.0', description: 'HTTP bind address' }),
  DATABASE_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgresql://postgres@127.0.0.1:5432/cdp',
    description: 'PostgreSQL connection URL',
  }),
  DATABASE_POOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 10,
    description: 'PostgreSQL connections per process',
  }),
  REDIS_URL: Type.String({
    pattern: '^rediss?://',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis connection URL',
  }),
  NATS_URL: Type.String({
    pattern: '^(nats|tls|wss?)://',
    default: 'nats://127.0.0.1:4222',
    description: 'NATS server URL(s), comma separated',
  }),
  NATS_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9_-]*$',
    default: '',
    description: 'Subject and stream prefix (lets parallel test runs share one NATS server)',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'Log level' },
  ),
  CONSUMERS: Type.Boolean({
    default: true,
    description:
      "Run the service's JetStream consumers in this process; false serves HTTP only (e.g. collection's API tier, scaled apart from the processes that persist)",
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    default: 10000,
    description: 'How long graceful shutdown may take before the process exits anyway',
  }),
  API_KEY_USE_REPORT_MS: Type.Integer({
    minimum: 100,
    default: 60000,
    description:
      "How often the management API keys this process saw used are reported to collection, which keeps each key's last use (api_keys.last_used_at)",
  }),
};

export function configSchema<P extends TProperties>(servicePort: number, extra: P) {
  return Type.Object({
    ...BaseConfigSchema,
    PORT: Type.Integer({ ...BaseConfigSchema.PORT, default: servicePort }),
    ...extra,
  });
}

export type BaseConfig = Static<TObject<typeof BaseConfigSchema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the environment once at start, converting strings to the schema's types and applying
 * defaults. A missing or bad variable throws a ConfigError naming every offending variable.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
    // An explicitly empty prefix is meaningful; other empty values fall back to defaults.
    else if (value === '' && key === 'NATS_PREFIX') raw[key] = '';
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw));
  const problems = [...Value.Errors(schema, converted)].map((e) => {
    const name = e.path.replace(/^\//, '');
    const given = env[name];
    return `${name}: ${e.message}${given === undefined ? ' (not set)' : ` (got "${given}")`}`;
  });
  // One reason per variable: TypeBox reports a missing value both as missing and as the wrong type.
  const byVariable = new Map(
    problems.map((problem) => [problem.slice(0, problem.indexOf(':')), problem] as const).reverse(),
  );
  if (problems.length) throw new ConfigError([...byVariable.values()].reverse());
  return converted as Static<S>;
}
