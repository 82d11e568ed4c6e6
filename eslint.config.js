// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Stage boundaries (docs/development.md): each folder of src/ names the folders it must not
 * import from. Data flows load → parse → validate → model → render → emit; shared helpers
 * (src/shared, src/errors.ts, src/version.ts) are visible to every stage, and only the CLI
 * sees everything.
 */
const FORBIDDEN = {
  shared: ['parse', 'validate', 'load', 'model', 'render', 'emit', 'check', 'cli'],
  parse: ['validate', 'load', 'model', 'render', 'emit', 'check', 'cli'],
  validate: ['load', 'model', 'render', 'emit', 'check', 'cli'],
  load: ['model', 'render', 'emit', 'check', 'cli'],
  model: ['load', 'render', 'emit', 'check', 'cli'],
  // render-bundle renders the drift check's files through check/render-check-files.ts (to move into render/).
  render: ['load', 'emit', 'cli'],
  emit: ['parse', 'validate', 'load', 'model', 'check', 'cli'],
  check: ['load', 'emit', 'cli'],
};

const boundaries = Object.entries(FORBIDDEN).map(([stage, banned]) => ({
  files: [`src/${stage}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^\\.\\./(${banned.join('|')})/`,
            message: `src/${stage} must not import from ${banned.join(', ')}: stages point down only (docs/development.md).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/scenarios/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // import('x') types are how lazily loaded modules are typed (parse-yaml.ts, validate-config.ts).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  ...boundaries,
);
