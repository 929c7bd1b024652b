import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// Layering (docs: /DESIGN.md): extension/cli/trainer -> engine -> protocol; webview -> protocol.
// Each layer lists what it must not import; the paths are our source folders at any depth.
const layer = (name) => `**/${name}/**`;

/** no-restricted-imports from [name, why] and [patterns, why] pairs (the why is the error message). */
function restricted({ paths = [], groups = [] }) {
  return ['error', { paths: paths.map(([name, message]) => ({ name, message })), patterns: groups.map(([group, message]) => ({ group, message })) }];
}

const noVscode = ['vscode', 'only src/extension/ talks to VS Code'];
const nodeBuiltins = (why) => builtinModules.filter((m) => !m.startsWith('_')).map((m) => [m, why]);

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
    // protocol/: types and pure logic every layer shares. It imports nothing but protocol/, and
    // from protocol/ only types (plus the result format's version number, which is data).
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!\\./)', message: 'src/protocol/ imports nothing outside src/protocol/ (no engine, vscode, Node or packages): every layer and the webview use it' },
            {
              group: ['./*'],
              allowTypeImports: true,
              allowImportNames: ['RESULT_FORMAT_VERSION'],
              message: 'within src/protocol/, import types only (`import type`): protocol modules do not depend on each other at run time',
            },
          ],
        },
      ],
    },
  },
  {
    // engine/: the science, in a plain Node process. Protocol, Node and its packages (tfjs); no UI, no host.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': restricted({
        paths: [noVscode, ['d3', 'charts belong to src/webview/']],
        groups: [
          [[layer('extension')], 'the engine never imports src/extension/ (the extension imports the engine)'],
          [[layer('webview')], 'the engine never imports src/webview/ (it has no DOM)'],
          [[layer('cli')], 'the engine never imports src/cli/ (the CLI imports the engine)'],
          [[layer('trainer')], 'the engine never imports src/trainer/ (the trainer process imports the engine)'],
          [['@vscode-elements/*'], 'UI components belong to src/webview/'],
        ],
      }),
    },
  },
  {
    // webview/: runs in a browser sandbox. Protocol and browser packages only.
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': restricted({
        paths: [noVscode, ...nodeBuiltins('the webview runs in a browser: no Node modules')],
        groups: [
          [['node:*'], 'the webview runs in a browser: no Node modules'],
          [[layer('engine')], 'the webview imports only src/protocol/ (the engine runs in the trainer process)'],
          [[layer('extension')], 'the webview imports only src/protocol/ (talk to the host by messages)'],
          [[layer('trainer')], 'the webview imports only src/protocol/'],
          [[layer('cli')], 'the webview imports only src/protocol/'],
          [['@tensorflow/*'], 'the webview never loads tfjs: the engine computes, the webview displays'],
        ],
      }),
    },
  },
  {
    // extension/: VS Code glue. Protocol and the vscode-free engine; never the webview's source (it ships as its own bundle).
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': restricted({
        paths: [['d3', 'charts belong to src/webview/']],
        groups: [
          [[layer('webview')], 'the host never imports src/webview/: the webview is its own bundle, reached by messages (shared logic goes in src/protocol/)'],
          [[layer('cli')], 'the host never imports src/cli/'],
          [[layer('trainer')], 'the host forks the trainer (dist/trainer.js); it never imports it'],
          [['@tensorflow/*'], 'training runs in the forked trainer: tfjs never loads on the extension host'],
          [['@vscode-elements/*'], 'UI components belong to src/webview/'],
        ],
      }),
    },
  },
  {
    // cli/ and trainer/: plain Node processes on the engine.
    files: ['src/cli/**/*.ts', 'src/trainer/**/*.ts'],
    rules: {
      'no-restricted-imports': restricted({
        paths: [noVscode],
        groups: [
          [[layer('extension')], 'plain Node processes never import src/extension/ (it needs VS Code)'],
          [[layer('webview')], 'plain Node processes never import src/webview/ (it needs a DOM; shared logic goes in src/protocol/)'],
        ],
      }),
    },
  },
);
