import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Layering: the engine and protocol never import vscode; the webview never imports vscode or Node.
    files: ['src/engine/**/*.ts', 'src/protocol/**/*.ts', 'src/trainer/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'] }] },
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['vscode', 'fs', 'path', 'os', 'child_process', 'worker_threads'], patterns: ['node:*', '**/engine/**', '**/extension/**', '**/trainer/**', '**/cli/**'] }],
    },
  },
);
