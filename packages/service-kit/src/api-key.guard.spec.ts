import { ApiKeys, grants } from './api-key.guard';
import type { DatabaseService } from './database.service';

describe('grants (API-key scopes)', () => {
  it('grants the scope named, every scope to admin, and read to the same area write', () => {
    expect(grants(['customers:read'], 'customers:read')).toBe(true);
    expect(grants(['admin'], 'templates:write')).toBe(true);
    expect(grants(['lifecycle:write'], 'lifecycle:read')).toBe(true);
  });

  it('refuses another area, write from read, and admin to anything less', () => {
    expect(grants(['customers:read'], 'segments:read')).toBe(false);
    expect(grants(['customers:read'], 'customers:write')).toBe(false);
    expect(grants(['sources:write'], 'admin')).toBe(false);
    expect(grants([], 'customers:read')).toBe(false);
    // An area is matched whole: `customer:write` says nothing of `customers:read`.
    expect(grants(['customer:write'], 'customers:read')).toBe(false);
  });
});

describe('ApiKeys uses (reported to collection)', () => {
  const keys = () => new ApiKeys({} as DatabaseService);

  it('hands each key used once, with its latest use, per workspace, and starts afresh', () => {
    const k = keys();
    k.restoreUses('ws-a', [
      { apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:00:00Z') },
      { apiKeyId: 'key-2', usedAt: new Date('2026-12-05T10:00:01Z') },
    ]);
    k.restoreUses('ws-b', [{ apiKeyId: 'key-3', usedAt: new Date('2026-12-05T10:00:02Z') }]);
    k.restoreUses('ws-a', [{ apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:05:00Z') }]);
    const uses = k.takeUses();
    expect([...uses.keys()].sort()).toEqual(['ws-a', 'ws-b']);
    expect(uses.get('ws-a')).toEqual([
      { apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:05:00Z') },
      { apiKeyId: 'key-2', usedAt: new Date('2026-12-05T10:00:01Z') },
    ]);
    expect(k.takeUses().size).toBe(0);
  });

  it('keeps a later use over the older one a failed report gives back', () => {
    const k = keys();
    k.restoreUses('ws-a', [{ apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:05:00Z') }]);
    k.restoreUses('ws-a', [{ apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:00:00Z') }]);
    expect(k.takeUses().get('ws-a')).toEqual([
      { apiKeyId: 'key-1', usedAt: new Date('2026-12-05T10:05:00Z') },
    ]);
  });
});
