import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { NATS_URL, REPO_ROOT } from '@cdp/testing';
import { databaseUrl, withDatabase } from '@cdp/db';

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
}

export async function describeMachine() {
  // The server's maintenance database: the platform's own need not exist (a machine that never ran it).
  const pg = new Client({ connectionString: withDatabase(databaseUrl(), 'postgres') });
  await pg.connect();
  const postgres = (
    (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?'
  ).split(' ')[0];
  const fsync = (await pg.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
    ?.synchronous_commit;
  await pg.end();
  const nc = await connect({ servers: NATS_URL });
  const nats = nc.info?.version ?? '?';
  await nc.close();
  return {
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    postgres,
    postgresSynchronousCommit: fsync,
    nats,
  };
}

export type Machine = Awaited<ReturnType<typeof describeMachine>>;
