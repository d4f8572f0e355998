import { aofEnabled } from './redis-persistence';

describe('aofEnabled', () => {
  const info = (aof: string) =>
    `# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:0\r\n${aof}rdb_last_save_time:1796517461\r\n`;

  it('reads aof_enabled from INFO persistence', () => {
    expect(aofEnabled(info('aof_enabled:1\r\n'))).toBe(true);
    expect(aofEnabled(info('aof_enabled:0\r\n'))).toBe(false);
  });

  it('says nothing when the server does not report it', () => {
    expect(aofEnabled(info(''))).toBeUndefined();
    expect(aofEnabled('')).toBeUndefined();
  });

  it('does not take another field that ends in aof_enabled for it', () => {
    expect(aofEnabled(info('x_aof_enabled:1\r\n'))).toBeUndefined();
  });
});
