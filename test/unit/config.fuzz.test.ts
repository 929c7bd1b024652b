// Fuzzing the experiment-file validator: thousands of seeded cases made from the examples and the
// schema (syntax errors, wrong types, odd numbers, unknown keys, huge arrays, deep nesting,
// unicode, a BOM, empty files, every strategy and benchmark with mutated settings). Each goes
// through parseExperiment, the Restricted Mode path check and the editor's range conversion, and
// must end in a valid experiment or positioned errors: never an exception.
// FUZZ_SEED=<n> replays another seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseExperiment, type ParsedExperiment } from '../../src/engine/config/load';
import { dataPathDiagnostics } from '../../src/engine/config/dataPaths';
import { diagnosticRange, lineLengths } from '../../src/extension/diagnosticRange';
import { STRATEGIES } from '../../src/engine/strategies/registry';

const SEED = Number(process.env.FUZZ_SEED ?? 0x11c1f022);
const ROOT = join(__dirname, '..', '..');
const FILE = join(ROOT, 'examples', 'fuzz.cl.json');
/** The machine the resource check sees: fixed, so a case's outcome does not depend on the host. */
const RESOURCES = { totalMemoryBytes: 16e9 };

/** mulberry32: a small seeded generator, so a failing case can be replayed from the seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.cl.json'))
  .sort()
  .map((f) => readFileSync(join(ROOT, 'examples', f), 'utf8'));
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schemas', 'experiment.schema.json'), 'utf8')) as { definitions: Record<string, Record<string, Json>> };
const DEFS = SCHEMA.definitions;

// ---------------------------------------------------------------------------------------------
// The check every case goes through

const counts = new Map<string, number>();
let valid = 0;
let refused = 0;

function assertPositioned(text: string, parsed: ParsedExperiment, label: string): void {
  const lines = lineLengths(text);
  const within = (line: number, column: number) => line >= 1 && line <= lines.length && column >= 1 && column <= lines[line - 1] + 1;
  for (const d of parsed.diagnostics) {
    const where = `${label}: ${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.message}`;
    assert.ok(typeof d.message === 'string' && d.message.trim().length > 0, `${label}: empty message`);
    assert.ok(Number.isInteger(d.line) && Number.isInteger(d.column) && within(d.line, d.column), `start outside the text: ${where}`);
    assert.ok(Number.isInteger(d.endLine) && Number.isInteger(d.endColumn) && within(d.endLine, d.endColumn), `end outside the text: ${where}`);
    assert.ok(d.endLine > d.line || (d.endLine === d.line && d.endColumn >= d.column), `end before start: ${where}`);
    assert.ok(d.offset >= 0 && d.length >= 0 && d.offset + d.length <= text.length, `offset outside the text: ${where}`);
    // The editor's conversion: inside the text, and already so without clamping.
    const r = diagnosticRange(d, lines);
    assert.deepEqual(r, diagnosticRange(d), `the editor range needed clamping: ${where}`);
    assert.ok(r.start.line < lines.length && r.start.character <= lines[r.start.line] && r.end.character <= lines[r.end.line], where);
  }
}

function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (isObj(v)) return Object.values(v).every(allFinite);
  return true;
}

function check(category: string, text: string): void {
  counts.set(category, (counts.get(category) ?? 0) + 1);
  const label = `${category} #${counts.get(category)} (seed ${SEED})`;
  let parsed: ParsedExperiment;
  try {
    parsed = parseExperiment(text, FILE, { resources: RESOURCES });
  } catch (e) {
    assert.fail(`${label}: parseExperiment threw ${(e as Error).stack}\ntext: ${text.slice(0, 300)}`);
  }
  assertPositioned(text, parsed, label);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (parsed.experiment) {
    valid++;
    assert.equal(errors.length, 0, `${label}: an experiment with errors`);
    const ex = parsed.experiment;
    assert.ok(ex.tasks.length >= 1 && ['mlp', 'cnn'].includes(ex.model.type) && typeof ex.strategy.name === 'string', `${label}: not normalised`);
    assert.ok(allFinite(ex), `${label}: a non-finite number in the normalised experiment`);
  } else {
    refused++;
    assert.ok(errors.length >= 1, `${label}: no experiment and no error\ntext: ${text.slice(0, 300)}`);
  }
  // The Restricted Mode path check runs on the same text in the editor.
  let outside: ReturnType<typeof dataPathDiagnostics>;
  try {
    outside = dataPathDiagnostics(text, FILE, { workspaceFolders: [ROOT], dataDirs: [] }, { realpath: () => null });
  } catch (e) {
    assert.fail(`${label}: dataPathDiagnostics threw ${(e as Error).stack}`);
  }
  assertPositioned(text, { experiment: null, diagnostics: outside }, `${label} (data paths)`);
}

// ---------------------------------------------------------------------------------------------
// Generators

const PALETTE = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '\r\n', '\t', '0', '-', 'e', '.', 'x', 'null', 'true', '/', '*', '\u0000', '\u00e9', '\ud83d\ude00', '\ud800', '\u2028', '\ufeff'];
const NUMBER_TEXTS = ['1e309', '-1e309', '-0', 'NaN', 'Infinity', '-Infinity', '0', '-1', '1.5', '1e-400', '9007199254740993', '1e308', '2147483648', '0.0000001', '1e9', '-2.5e-3', '01', '1.', '.5', '+1', '0x10'];
const UNICODE = ['é', 'naïve', '日本語', 'Ελληνικά', 'עברית', '\u202eevil', 'e\u0301', '😀', '👩‍🔬', '\\u0000', '\\ud800', '\u2028', '\u00a0', 'Z̤͔ͧ̑', '\\"quoted\\"', '\\\\back', ''];
const KEYS = ['epochz', 'Epochs', '__proto__', 'constructor', 'toString', '$schema', 'hasOwnProperty', '😀', 'ключ', ' ', '', 'a/b', '~0', 'tasks ', 'learning_rate'];

/** A JSON pointer-ish path to every value of a document. */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((c, i) => paths(c, [...at, i], out));
  else if (isObj(v)) for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
  return out;
}

function setAt(root: Json, at: (string | number)[], value: Json): Json {
  if (!at.length) return value;
  const copy = structuredClone(root) as Json;
  let node = copy as Record<string | number, Json>;
  for (const k of at.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  node[at[at.length - 1]] = value;
  return copy;
}

function otherType(rng: Rng, v: Json): Json {
  const choices: Json[] = ['text', 3, -7.5, true, false, null, [], [1, 'a'], {}, { x: 1 }, '', '1', [[]]];
  for (;;) {
    const c = rng.pick(choices);
    if (typeof c !== typeof v || Array.isArray(c) !== Array.isArray(v)) return c;
  }
}

/** Serialises with a marker replaced by raw number text (JSON.stringify cannot write 1e309 or NaN). */
function withRawNumber(doc: Json, at: (string | number)[], raw: string, rng: Rng): string {
  const marker = '"@@RAW@@"';
  const text = JSON.stringify(setAt(doc, at, '@@RAW@@'), null, rng.next() < 0.5 ? 2 : undefined);
  return text.replace(marker, raw);
}

function numericPaths(doc: Json): (string | number)[][] {
  return paths(doc).filter((p) => {
    let v: Json = doc;
    for (const k of p) v = (v as Record<string | number, Json>)[k];
    return typeof v === 'number';
  });
}

const bases = EXAMPLES.map((t) => JSON.parse(t) as Json);

/** A value the schema definition allows (a random one), for properties of strategies and benchmarks. */
function sample(rng: Rng, schema: Record<string, Json>): Json {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum);
  const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 0.001 : 0;
  const max = typeof schema.maximum === 'number' ? schema.maximum : min + 100;
  if (schema.type === 'integer') return min + rng.int(Math.max(1, Math.min(max - min + 1, 1000)));
  if (schema.type === 'number') return min + rng.next() * (max - min);
  if (schema.type === 'boolean') return rng.next() < 0.5;
  if (schema.type === 'string') return 'x';
  return null;
}

/** Wrong values for a property: out of its range, of another type, not in its enum. */
function mutant(rng: Rng, schema: Record<string, Json>): string {
  const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const options: string[] = [...NUMBER_TEXTS, '"text"', 'true', 'null', '[]', '{}', '"reservoir"', '"class-il"'];
  if (min !== undefined) options.push(String(min - 1), String(min - 0.5), String(min), String(-Math.abs(min) - 1));
  if (max !== undefined) options.push(String(max + 1), String(max + 0.5), String(max));
  return rng.pick(options);
}

const defOf = (ref: string): Record<string, Json> => DEFS[ref];
const propsOf = (def: Record<string, Json>): Record<string, Record<string, Json>> => (isObj(def.properties) ? (def.properties as Record<string, Record<string, Json>>) : {});

// ---------------------------------------------------------------------------------------------
// The cases

const PLAN: Record<string, number> = {
  truncation: 400,
  'deleted bytes': 400,
  'inserted bytes': 400,
  'wrong types': 400,
  'odd numbers': 400,
  'unknown keys': 300,
  'huge arrays': 24,
  'deep nesting': 16,
  unicode: 300,
  bom: 60,
  'empty and whitespace': 12,
  strategies: 0, // set below: every strategy x every hyperparameter
  benchmarks: 0,
  resources: 40,
};

test(`fuzz: every experiment file ends in a valid run or positioned errors (seed ${SEED})`, () => {
  const rng = prng(SEED);
  const base = () => rng.int(bases.length);

  for (let i = 0; i < PLAN.truncation; i++) {
    const t = EXAMPLES[base()];
    check('truncation', t.slice(0, rng.int(t.length)));
  }
  for (let i = 0; i < PLAN['deleted bytes']; i++) {
    let t = EXAMPLES[base()];
    for (let k = 1 + rng.int(4); k > 0; k--) {
      const at = rng.int(t.length);
      t = t.slice(0, at) + t.slice(at + 1 + rng.int(3));
    }
    check('deleted bytes', t);
  }
  for (let i = 0; i < PLAN['inserted bytes']; i++) {
    let t = EXAMPLES[base()];
    for (let k = 1 + rng.int(4); k > 0; k--) {
      const at = rng.int(t.length + 1);
      t = t.slice(0, at) + rng.pick(PALETTE) + t.slice(at);
    }
    check('inserted bytes', t);
  }
  for (let i = 0; i < PLAN['wrong types']; i++) {
    const doc = bases[base()];
    const at = rng.pick(paths(doc));
    let v: Json = doc;
    for (const k of at) v = (v as Record<string | number, Json>)[k];
    check('wrong types', JSON.stringify(setAt(doc, at, otherType(rng, v)), null, 2));
  }
  for (let i = 0; i < PLAN['odd numbers']; i++) {
    const doc = bases[base()];
    const at = rng.pick(numericPaths(doc));
    check('odd numbers', withRawNumber(doc, at, rng.pick(NUMBER_TEXTS), rng));
  }
  for (let i = 0; i < PLAN['unknown keys']; i++) {
    const doc = bases[base()];
    const objects = paths(doc).filter((p) => {
      let v: Json = doc;
      for (const k of p) v = (v as Record<string | number, Json>)[k];
      return isObj(v);
    });
    const at = rng.pick(objects);
    let obj: Json = doc;
    for (const k of at) obj = (obj as Record<string | number, Json>)[k];
    // Written as text so that "__proto__" stays an own key.
    const inner = JSON.stringify(obj);
    const key = JSON.stringify(rng.pick(KEYS) + (rng.next() < 0.3 ? rng.pick(UNICODE) : ''));
    const added = inner === '{}' ? `{${key}: 1}` : `{${key}: ${JSON.stringify(otherType(rng, null))}, ${inner.slice(1)}`;
    check('unknown keys', JSON.stringify(setAt(doc, at, '@@OBJ@@')).replace('"@@OBJ@@"', added));
  }
  // Huge arrays: 100,000 elements where the schema wants a few (or many of the right kind).
  const N = 100_000;
  const huge: [string, string][] = [
    ['/model/hidden of 400s', `{"tasks": [{"dataset": "mnist"}], "model": {"type": "mlp", "hidden": [${Array(N).fill(400).join(',')}]}}`],
    ['/model/hidden of 1s', `{"tasks": [{"dataset": "mnist"}], "model": {"type": "mlp", "hidden": [${Array(N).fill(1).join(',')}]}}`],
    ['/tasks', `{"tasks": [${Array(N).fill('{"dataset": "mnist", "train": 10}').join(',')}]}`],
    ['/tasks cumulative', `{"tasks": [${Array(N).fill('{"dataset": "mnist"}').join(',')}], "strategy": {"name": "cumulative"}}`],
    ['/tasks wrong', `{"tasks": [${Array(N).fill('{"dataset": 7}').join(',')}]}`],
    ['/tasks/0/classes', `{"tasks": [{"dataset": "mnist", "classes": [${Array.from({ length: N }, (_, i) => i).join(',')}]}]}`],
    ['/tasks/0/classes dup', `{"tasks": [{"dataset": "mnist", "classes": [${Array(N).fill(1).join(',')}]}]}`],
    ['/benchmark/angles', `{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "angles": [${Array(N).fill(45).join(',')}]}}`],
    ['/benchmark/tasks 1e9', `{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "tasks": 1000000000}}`],
    ['/benchmark/tasks permuted 1e9', `{"benchmark": {"name": "permuted-mnist", "scenario": "domain-il", "tasks": 1000000000}}`],
    ['/landscape/optima', `{"tasks": [{"dataset": "mnist"}, {"dataset": "mnist"}], "landscape": {"optima": [${Array(N).fill(0).join(',')}]}}`],
    ['/model/conv', `{"tasks": [{"dataset": "mnist"}], "model": {"type": "cnn", "conv": [${Array(N).fill('{"filters": 2, "kernel": 1}').join(',')}], "dense": []}}`],
    ['root array', `[${Array(N).fill(0).join(',')}]`],
    ['name', `{"name": "${'x'.repeat(N)}", "tasks": [{"dataset": "mnist"}]}`],
    ['keys', `{"tasks": [{"dataset": "mnist"}], ${Array.from({ length: N }, (_, i) => `"k${i}": ${i}`).join(',')}}`],
    ['duplicate keys', `{"tasks": [{"dataset": "mnist"}], ${Array(N).fill('"seed": 1').join(',')}}`],
    ['/model/dense', `{"tasks": [{"dataset": "mnist"}], "model": {"type": "cnn", "conv": [], "dense": [${Array(N).fill(8).join(',')}]}}`],
    ['/training wrong', `{"tasks": [{"dataset": "mnist"}], "training": [${Array(N).fill('"x"').join(',')}]}`],
    ['strings', `{"tasks": [{"dataset": "mnist", "label": [${Array(N).fill('"é"').join(',')}]}]}`],
    ['nested small', `{"tasks": [${Array(N).fill('[[{}]]').join(',')}]}`],
    ['numbers 1e309', `{"tasks": [{"dataset": "mnist", "classes": [${Array(N).fill('1e309').join(',')}]}]}`],
    ['errors everywhere', `{"tasks": [${Array(N).fill('{"dataset": "mnist", "train": -1, "test": "x", "zzz": 1}').join(',')}]}`],
    ['betaRange', `{"tasks": [{"dataset": "mnist"}, {"dataset": "mnist"}], "landscape": {"betaRange": [${Array(N).fill(1).join(',')}]}}`],
    ['truncated', `{"tasks": [${Array(N).fill('{"dataset": "mnist"}').join(',')}`],
  ];
  assert.equal(huge.length, PLAN['huge arrays']);
  for (const [, text] of huge) check('huge arrays', text);

  const deep: string[] = [
    '['.repeat(10_000),
    '['.repeat(10_000) + ']'.repeat(10_000),
    '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000),
    `{"tasks": [{"dataset": "mnist"}], "name": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    `{"tasks": [{"dataset": "mnist"}], "x": ${'{"y":'.repeat(5_000)}0${'}'.repeat(5_000)}}`,
    '[{'.repeat(5_000),
    `{"tasks": ${'['.repeat(100_000)}`,
    `{"name": "${'['.repeat(10_000)}", "tasks": [{"dataset": "mnist"}]}`, // brackets inside a string are text
    ...[62, 63, 64, 65].map((d) => `{"tasks": [{"dataset": "mnist"}], "x": ${'['.repeat(d - 1)}${']'.repeat(d - 1)}}`),
    ...[63, 64, 65].map((d) => '['.repeat(d) + ']'.repeat(d)),
    `{"tasks": [{"dataset": "mnist", "label": "\\"${'['.repeat(70)}"}]}`,
  ];
  assert.equal(deep.length, PLAN['deep nesting']);
  for (const text of deep) check('deep nesting', text);

  for (let i = 0; i < PLAN.unicode; i++) {
    const doc = structuredClone(bases[base()]) as Record<string, Json>;
    const u = () => rng.pick(UNICODE) + (rng.next() < 0.5 ? rng.pick(UNICODE) : '');
    const where = rng.int(4);
    let text: string;
    if (where === 0) text = JSON.stringify({ ...doc, name: '@@U@@' }).replace('@@U@@', u());
    else if (where === 1 && Array.isArray(doc.tasks)) text = JSON.stringify({ ...doc, tasks: doc.tasks.map((t) => ({ ...(t as object), label: '@@U@@' })) }).replace(/@@U@@/g, u());
    else if (where === 2) text = JSON.stringify(doc).replace('{', `{"@@U@@": 1, `).replace('@@U@@', u());
    else text = JSON.stringify({ ...doc, strategy: { name: '@@U@@' } }).replace('@@U@@', u());
    // Raw (unescaped) unicode, line separators and CR/LF mixes in the layout as well.
    if (rng.next() < 0.3) text = text.replace(/, /g, () => rng.pick([', ', ',\r\n', ',\r', ',\u2028', ',\u00a0']));
    check('unicode', text);
  }

  for (let i = 0; i < PLAN.bom; i++) {
    const t = EXAMPLES[base()];
    const variants = ['\ufeff' + t, '\ufeff', '\ufeff \n', '\ufeff' + t.slice(0, rng.int(t.length)), t.replace('{', '{\ufeff'), '\ufeff\ufeff' + t];
    check('bom', variants[i % variants.length]);
  }
  for (const t of ['', ' ', '\n', '\r\n\r\n', '\t \t', '\u00a0', '\u2028', '\r', ' \n '.repeat(1000), '\n'.repeat(10_000), '\u3000', '\v\f']) check('empty and whitespace', t);

  // Every strategy with each hyperparameter set to a random allowed value or to a wrong one, plus an unknown one.
  let strategyCases = 0;
  for (const s of STRATEGIES) {
    const def = defOf(`strategy-${s.name}`);
    assert.ok(def, `the schema defines strategy-${s.name}`);
    const props = Object.entries(propsOf(def)).filter(([k]) => k !== 'name');
    const scenario = s.scenarios?.[0] ?? 'class-il';
    const tasks = `[{"dataset": "mnist", "classes": [0, 1], "train": 200, "test": 100}, {"dataset": "mnist", "classes": [2, 3], "train": 200, "test": 100}]`;
    const wrap = (strategy: string) => `{"tasks": ${tasks}, "scenario": "${scenario}", "training": {"iterations": 5, "batchSize": 16}, "strategy": ${strategy}}`;
    for (let r = 0; r < 8; r++) {
      const chosen = Object.fromEntries(props.filter(() => rng.next() < 0.7).map(([k, p]) => [k, sample(rng, p)]));
      check('strategies', wrap(JSON.stringify({ name: s.name, ...chosen })));
      strategyCases++;
    }
    for (const [k, p] of props) {
      for (let r = 0; r < 6; r++) {
        check('strategies', wrap(`{"name": "${s.name}", "${k}": ${mutant(rng, p)}}`));
        strategyCases++;
      }
    }
    for (const extra of ['"lamda": 1', '"memorysize": 5', `"${rng.pick(KEYS)}": true`]) {
      check('strategies', wrap(`{"name": "${s.name}", ${extra}}`));
      strategyCases++;
    }
  }
  PLAN.strategies = strategyCases;

  // Every benchmark, each property random-valid or mutated, with another scenario or none.
  let benchmarkCases = 0;
  const benchmarkDefs = Object.keys(DEFS).filter((k) => k.startsWith('benchmark-'));
  assert.ok(benchmarkDefs.length >= 4);
  for (const ref of benchmarkDefs) {
    const props = Object.entries(propsOf(defOf(ref))).filter(([k]) => k !== 'name' && k !== 'scenario');
    const name = ref.slice('benchmark-'.length);
    for (let r = 0; r < 40; r++) {
      const fields: string[] = [`"name": "${name}"`];
      const scenario = rng.pick(['"class-il"', '"task-il"', '"domain-il"', '"Class-IL"', '1', null]);
      if (scenario) fields.push(`"scenario": ${scenario}`);
      for (const [k, p] of props) {
        const roll = rng.next();
        if (roll < 0.4) continue;
        if (k === 'angles') fields.push(`"angles": ${roll < 0.7 ? JSON.stringify(Array.from({ length: 1 + rng.int(6) }, () => rng.int(360))) : rng.pick(['[]', '[1e309]', '"45"', '[null]', '[45, "x"]'])}`);
        else fields.push(`"${k}": ${roll < 0.7 ? JSON.stringify(sample(rng, p)) : mutant(rng, p)}`);
      }
      const extra = rng.next() < 0.2 ? `, "tasks": [{"dataset": "mnist"}]` : rng.next() < 0.2 ? `, "scenario": "task-il"` : '';
      check('benchmarks', `{"benchmark": {${fields.join(', ')}}, "training": {"iterations": 10}${extra}}`);
      benchmarkCases++;
    }
  }
  PLAN.benchmarks = benchmarkCases;

  // Runs too big for memory or time: models, steps, memories, landscapes.
  const big = ['1e9', '100000', '1000000000000', '1e308', '4294967296', '65536', '50'];
  for (let i = 0; i < PLAN.resources; i++) {
    const n = rng.pick(big);
    const variants = [
      `{"tasks": [{"dataset": "mnist"}], "model": {"type": "mlp", "hidden": [${n}, ${n}]}}`,
      `{"tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}], "training": {"epochs": ${n}}}`,
      `{"tasks": [{"dataset": "mnist"}], "training": {"iterations": ${n}}, "landscape": false}`,
      `{"tasks": [{"dataset": "mnist"}], "strategy": {"name": "replay", "memorySize": ${n}}}`,
      `{"tasks": [{"dataset": "mnist"}], "model": {"type": "cnn", "conv": [{"filters": ${n}, "kernel": 3}], "dense": [${n}]}}`,
      `{"tasks": [{"dataset": "mnist"}, {"dataset": "mnist"}], "landscape": {"samples": ${n}, "checkpointEvery": 1}, "training": {"batchSize": ${n}}}`,
      `{"tasks": [{"dataset": "idx", "path": "d", "train": ${n}}], "training": {"evalEvery": 1, "evalSamples": ${n}}}`,
    ];
    check('resources', variants[i % variants.length]);
  }

  // Every category ran as planned (the test cannot silently run nothing).
  let total = 0;
  for (const [category, planned] of Object.entries(PLAN)) {
    assert.ok(planned > 0, `${category}: no cases planned`);
    assert.equal(counts.get(category), planned, `${category}: ran ${counts.get(category) ?? 0} of ${planned}`);
    total += planned;
  }
  assert.ok(total >= 3000, `only ${total} cases`);
  assert.ok(valid >= 100 && refused >= 1000, `valid ${valid}, refused ${refused}: the generators should produce both`);
  console.log(`fuzz seed ${SEED}: ${total} cases (${valid} valid runs, ${refused} refused with positioned errors)`);
  for (const [category, n] of counts) console.log(`  ${category}: ${n}`);
});

test('the editor range: 0-based, clamped to the text, never reversed', () => {
  const lines = lineLengths('ab\r\ncde\rf\n');
  assert.deepEqual(lines, [2, 3, 1, 0]);
  const r = (line: number, column: number, endLine: number, endColumn: number) => diagnosticRange({ line, column, endLine, endColumn }, lines);
  assert.deepEqual(r(2, 2, 2, 4), { start: { line: 1, character: 1 }, end: { line: 1, character: 3 } });
  assert.deepEqual(r(9, 9, 12, 1), { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } });
  assert.deepEqual(r(1, 50, 1, 60), { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } });
  assert.deepEqual(r(2, 3, 1, 1), { start: { line: 1, character: 2 }, end: { line: 1, character: 2 } });
  assert.deepEqual(r(0, -5, NaN, Infinity), { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  assert.deepEqual(lineLengths(''), [0]);
});
