import { createTestDatabase, resetDatabase } from './test-database';
import { databaseName, withDatabase } from './config';

// Guards only: these reject before any connection is made.
describe('database helpers guards', () => {
  it('refuses the shared and system databases as test databases', async () => {
    await expect(createTestDatabase('cdp')).rejects.toThrow(/shared "cdp"/);
    await expect(createTestDatabase('postgres')).rejects.toThrow(/system database/);
    await expect(createTestDatabase('bad name;')).rejects.toThrow(/Invalid database name/);
  });

  it('refuses to reset cdp without force', async () => {
    await expect(resetDatabase('postgresql://postgres@127.0.0.1:5432/cdp')).rejects.toThrow(/--force/);
  });

  it('rewrites the database of a URL', () => {
    const url = withDatabase('postgresql://u:p@db.example:6543/cdp?sslmode=disable', 'cdp_test_x');
    expect(url).toBe('postgresql://u:p@db.example:6543/cdp_test_x?sslmode=disable');
    expect(databaseName(url)).toBe('cdp_test_x');
  });
});
