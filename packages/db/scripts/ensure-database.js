// Creates the database named in DATABASE_URL (default: cdp on 127.0.0.1) if it does not exist.
// `prisma migrate deploy/dev` through the driver adapter cannot create it ("Database `x` does not
// exist"), unlike the native schema engine. Plain JS so that it runs before any build.
const { Client } = require('pg');

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/cdp';

async function main() {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL has no database name');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.error(`Created database "${name}"`);
    }
  } catch (e) {
    // 42P04 duplicate_database: created concurrently by another process.
    if (!(e && e.code === '42P04')) throw e;
  } finally {
    await client.end();
  }
}

main().catch((e) => {
  console.error(`ensure-database: ${e.message}`);
  process.exit(1);
});
