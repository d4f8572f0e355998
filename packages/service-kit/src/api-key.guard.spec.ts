import { grants } from './api-key.guard';

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
