// Prisma CLI configuration (Prisma 6.19). This machine kind cannot download Prisma's native
// engines, so migrations run through the WASM schema engine shipped in the `prisma` npm package,
// driving @prisma/adapter-pg. All workarounds live here, covered by test/db.int-spec.ts.
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/cdp';
// schema.prisma's env("DATABASE_URL") must resolve, or the CLI cannot read engineType = "client"
// and falls back to downloading the native query engine.
process.env.DATABASE_URL = url;

// 1. adapter-pg 6.19 cannot map some catalog types (prisma/prisma#27403: "Column type 'name'
//    could not be deserialized"). pg already decodes them as strings: report them as TEXT/TEXT[].
const RETYPE: Record<number, number> = {
  18: 25,
  19: 25,
  22: 25,
  30: 25,
  194: 25,
  2205: 25,
  2206: 25,
  1003: 1009,
};

/* eslint-disable @typescript-eslint/no-explicit-any -- patching adapter internals */
function patch<T>(conn: T): T {
  const c = conn as any;
  const performIO = c.performIO.bind(c);
  c.performIO = async (q: unknown) => {
    const res = await performIO(q);
    for (const r of Array.isArray(res) ? res : [res])
      for (const f of r.fields ?? []) if (RETYPE[f.dataTypeID]) f.dataTypeID = RETYPE[f.dataTypeID];
    return res;
  };
  if (typeof c.startTransaction === 'function') {
    const start = c.startTransaction.bind(c);
    c.startTransaction = async (...a: unknown[]) => patch(await start(...a));
  }
  if (typeof c.executeScript === 'function') {
    // 2. executeScript() splits on every ';' (breaks $$ bodies) and spreads the pieces over pool
    //    connections. Send the script as one simple-protocol query instead.
    c.executeScript = async (script: string) => {
      try {
        await c.client.query(script);
      } catch (e) {
        c.onError(e);
      }
    };
  }
  return conn;
}

class MigratePg extends PrismaPg {
  // allowExitOnIdle: the CLI never ends the pool; without it each command idles 10 s before exit.
  constructor(private readonly dbUrl: string) {
    super({ connectionString: dbUrl, allowExitOnIdle: true });
  }
  override async connect() {
    return patch(await super.connect());
  }
  // 3. connectToShadowDb() builds the shadow pool as {...config, database}; with a connectionString
  //    the URL's database wins, so the "shadow" would be the real database. Build the URL here.
  override async connectToShadowDb() {
    const admin = await this.connect();
    const name = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${name}"`);
    const u = new URL(this.dbUrl);
    u.pathname = `/${name}`;
    const shadow = await new MigratePg(u.toString()).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.dispose();
    };
    return shadow;
  }
}

// 4. The WASM engine leaves 10 s / 60 s timers pending, so commands linger after they are done.
//    This file is loaded only by the Prisma CLI: unref long timers.
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...a: any[]) => void, ms?: number, ...args: any[]) => {
  const t = realSetTimeout(fn, ms, ...args);
  if ((ms ?? 0) >= 5000) t.unref?.();
  return t;
}) as typeof setTimeout;
/* eslint-enable @typescript-eslint/no-explicit-any */

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new MigratePg(url),
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
