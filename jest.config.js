// One jest run, one project per package/app and tier. Unit tests sit beside the code
// (src/**/*.spec.ts); integration tests use the real local Postgres, Redis and NATS
// (test/**/*.int-spec.ts); e2e tests start services as separate processes (test/**/*.e2e-spec.ts).
const swc = [
  '@swc/jest',
  {
    swcrc: false,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      keepClassNames: true,
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
  },
];

const packages = ['db', 'contracts', 'messaging', 'service-kit', 'testing'];
const apps = ['collection', 'analysis', 'campaign', 'delivery'];

const common = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.(t|j)s$': swc },
  // Nest 12 and a few of its dependencies ship ESM only; jest 30 on Node 20 must transform them.
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?(@nestjs[+/]|cookie[@/]|content-disposition[@/]))'],
  // Workspace packages are tested from source, never from a stale dist.
  moduleNameMapper: Object.fromEntries(
    packages.map((p) => [`^@cdp/${p}$`, `<rootDir>/../../packages/${p}/src/index.ts`]),
  ),
  setupFiles: ['reflect-metadata'],
};

const tiers = [
  ['unit', 'src/**/*.spec.ts', 10_000],
  ['int', 'test/**/*.int-spec.ts', 60_000],
  ['e2e', 'test/**/*.e2e-spec.ts', 180_000],
];

const workspaceProjects = [...packages.map((p) => ['packages', p]), ...apps.map((a) => ['apps', a])].flatMap(
  ([dir, name]) =>
    tiers.map(([tier, match, timeout]) => ({
      ...common,
      displayName: `${name}-${tier}`,
      rootDir: `<rootDir>/${dir}/${name}`,
      testMatch: [`<rootDir>/${match}`],
      // testTimeout is global-only in jest 30; a per-tier setup file sets it per project.
      setupFilesAfterEnv: [`<rootDir>/../../jest/timeout-${timeout / 1000}s.js`],
    })),
);

module.exports = {
  projects: [
    ...workspaceProjects,
    // Cross-service tests: the services as separate processes, from their build output.
    {
      ...common,
      displayName: 'platform-e2e',
      rootDir: '<rootDir>/test',
      moduleNameMapper: Object.fromEntries(
        packages.map((p) => [`^@cdp/${p}$`, `<rootDir>/../packages/${p}/src/index.ts`]),
      ),
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/../jest/timeout-180s.js'],
    },
  ],
};
