// One lint config for the monorepo: type-aware rules, and Nx project tags that enforce the
// dependency boundaries described in shared/design/ARCHITECTURE.md.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', '**/*.bundle.js', 'infra/**', '.nx/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@nx/enforce-module-boundaries': [
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
            // A service lib sees ports, never adapters, and never another service's internals.
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:port', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
            // Only apps compose adapters and services.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:app', 'type:service', 'type:adapter', 'type:port', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
);
