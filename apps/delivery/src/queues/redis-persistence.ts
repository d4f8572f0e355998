/**
 * Whether Redis keeps an append-only file, from the text of `INFO persistence`; undefined when the
 * server does not say (a managed Redis may hide the section).
 */
export function aofEnabled(info: string): boolean | undefined {
  const value = /^aof_enabled:(\d+)/m.exec(info)?.[1];
  return value === undefined ? undefined : value !== '0';
}

/**
 * The send jobs carry their messages' rendered content, which nothing else keeps: without the AOF
 * a Redis restart loses them, and their messages can only be failed (see the README, "Flow").
 */
export const NO_AOF_WARNING =
  'Redis runs without its append-only file (appendonly no): a Redis restart loses the send jobs in it, ' +
  'and their messages then end failed, unsent; set appendonly yes (docs/operations.md, "Durability")';
