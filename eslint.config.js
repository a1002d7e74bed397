// ESLint for the TypeScript (typescript-eslint's recommended rules; formatting is prettier's).
// `npm run lint` runs it with prettier --check and the type check of the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'results/', 'deploy/ansible/results/', 'p4/', 'native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        __dirname: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
        Response: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring to drop a field, callbacks' unused arguments).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // prettier wraps code at 140 columns but never breaks a string, a template or a comment: this
      // bounds those. A regular expression is exempt (split, it reads worse).
      'max-len': ['error', { code: 150, tabWidth: 2, ignoreRegExpLiterals: true, ignoreUrls: true }],
    },
  },
);
