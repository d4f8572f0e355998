/** Database the services use when DATABASE_URL is not set (local development). */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/cdp';

/** DATABASE_URL from the environment, else {@link DEFAULT_DATABASE_URL}. */
export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

/** Name of the database a PostgreSQL URL points at (decoded). */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`No database name in URL ${redactUrl(url)}`);
  return name;
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid database URL>';
  }
}
