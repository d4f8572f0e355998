import { Type } from '@sinclair/typebox';
import { ConfigError, configSchema, loadConfig } from './config';

describe('loadConfig', () => {
  const schema = configSchema(3009, { SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 25 }) });

  it('applies defaults and converts strings to the declared types', () => {
    const config = loadConfig(schema, { SMTP_PORT: '2525' });
    expect(config).toMatchObject({
      PORT: 3009,
      SMTP_PORT: 2525,
      NATS_PREFIX: '',
      LOG_LEVEL: 'info',
      DATABASE_URL: expect.stringMatching(/^postgresql:/),
    });
  });

  it('names every bad variable with what was given', () => {
    let error: unknown;
    try {
      loadConfig(schema, {
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        NATS_PREFIX: 'a.b',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'NATS_PREFIX', 'LOG_LEVEL']) expect(message).toContain(name);
    expect(message).toContain('(got "eighty")');
  });

  it('reports a required variable without default as not set', () => {
    const strict = Type.Object({ SECRET: Type.String({ minLength: 1 }) });
    expect(() => loadConfig(strict, {})).toThrow(/SECRET: .*\(not set\)/);
  });
});
