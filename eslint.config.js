import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'dist', 'src/web/vendor'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The web UI runs in the browser (plain ES modules, no build step).
  { files: ['src/web/static/**/*.js'], languageOptions: { globals: globals.browser } },
  // Everything else plain-JS runs in Node (the CLI launcher, scripts).
  {
    files: ['bin/**/*.js', 'scripts/**/*.js', 'scripts/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
)
