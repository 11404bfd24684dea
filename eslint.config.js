// One lint config for the monorepo: type-aware rules, and Nx project tags that enforce the
// dependency boundaries described in shared/design/ARCHITECTURE.md.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** The dependency rules between Nx project tags; `tests` relaxes them for unit tests and their fixtures only. */
function boundaries(tests) {
  return [
    'error',
    {
      allow: [],
      banTransitiveDependencies: false,
      enforceBuildableLibDependency: false,
      depConstraints: [
        // Contracts are generated from proto/ and depend on nothing of ours.
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
        { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
        // Pure domain: contracts and pure logic only, never ports' adapters or services.
        { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'] },
        // Ports are interfaces (plus their contract test suites).
        { sourceTag: 'type:port', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util'] },
        { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util'] },
        // A service lib sees ports, never adapters or another service's internals (the executor uses the sandbox's contract types);
        // its unit tests may run it on the embedded adapters (SQLite), real over mocks.
        { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util', 'type:runtime', ...(tests ? ['type:adapter'] : [])] },
        // The sandbox runtime: used by the executor app through the composition lib.
        { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
        // The composition lib wires adapters and services; only apps use it.
        { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:service', 'type:adapter', 'type:port', 'type:domain', 'type:contracts', 'type:util', 'type:runtime'] },
        {
          sourceTag: 'type:app',
          onlyDependOnLibsWithTags: ['type:composition', 'type:runtime', 'type:service', 'type:adapter', 'type:port', 'type:domain', 'type:contracts', 'type:util', 'type:testing'],
        },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', '**/*.bundle.js', 'infra/**', '.nx/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@nx/enforce-module-boundaries': boundaries(false),
    },
  },
  {
    // Sizes (issue 10): no function over ~80 lines and no file over ~500, outside tests, their kits and the contract suites.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: [
      '**/*.test.ts',
      '**/testing/**',
      '**/testing.*.ts',
      '**/*.contract.ts',
      // The sandbox's in-context bootstrap parts (the TypeScript form of the in-context sources): their source text is
      // stringified and evaluated inside each vm context, so splitting them into more functions costs time per context
      // (libs/sandbox/ARCHITECTURE.md).
      'libs/sandbox/src/worker/context/*.part.ts',
    ],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 500, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/*.test.ts', '**/testing.fixtures.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
);
