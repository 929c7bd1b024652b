// Writes the generated parts of schemas/experiment.schema.json (the strategies from the registry,
// the benchmarks from config/benchmarks.ts) and keeps the hand-written rest as it is; then the
// editor's copy, schemas/experiment.editor.schema.json (config/editorSchema.ts), from the result.
// Run after adding a strategy: `npm run schema` (= node --import tsx scripts/schema.ts).
// `--check` only reports whether the file is up to date (exit code 1 when not).
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generatedPart, withGeneratedDefinitions } from '../src/engine/config/schemaSections';
import type { JsonSchema } from '../src/engine/config/schema';
import { EDITOR_SCHEMA_FILE, editorSchema } from '../src/engine/config/editorSchema';
import { isDeepStrictEqual } from 'node:util';

// Containers short enough stay on one line, as in the hand-written parts of the file.
const INLINE_WIDTH = 100;

function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length ? `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(value);
}

function format(value: unknown, indent: string): string {
  const flat = inline(value);
  if (flat.length <= INLINE_WIDTH || !value || typeof value !== 'object') return flat;
  const inner = indent + '  ';
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

const file = path.join(__dirname, '..', 'schemas', 'experiment.schema.json');
const editorFile = path.join(__dirname, '..', 'schemas', EDITOR_SCHEMA_FILE);
const current = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
const next = withGeneratedDefinitions(current);
const upToDate = isDeepStrictEqual(generatedPart(current), generatedPart(next));
const readEditor = (): unknown => {
  try {
    return JSON.parse(readFileSync(editorFile, 'utf8'));
  } catch {
    return undefined;
  }
};
const editorUpToDate = isDeepStrictEqual(readEditor(), editorSchema(next));

if (process.argv.includes('--check')) {
  const ok = upToDate && editorUpToDate;
  console.log(ok ? 'schema is up to date' : `${upToDate ? EDITOR_SCHEMA_FILE : 'schema'} is out of date: run npm run schema`);
  process.exit(ok ? 0 : 1);
}
writeFileSync(file, format(next, '') + '\n');
writeFileSync(editorFile, format(editorSchema(next), '') + '\n');
const defs = Object.keys(generatedPart(next));
console.log(`wrote ${path.relative(process.cwd(), file)}: ${defs.length} generated definitions (${defs.join(', ')})${upToDate ? ', unchanged' : ''}`);
console.log(`wrote ${path.relative(process.cwd(), editorFile)}${editorUpToDate ? ', unchanged' : ''}`);
