// Loads an experiment file (*.cl.json): JSON syntax, schema and semantic checks, every problem at
// once with its line/column, then the experiment with every default filled in.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { getLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { ErrorObject } from 'ajv';
import type {
  ConvLayerSpec,
  ExperimentSpec,
  LandscapeSpec,
  ModelSpec,
  NormalisedExperiment,
  ResolvedModelSpec,
  Scenario,
  StrategySpec,
  TaskSpec,
  TrainingSpec,
} from '../../protocol/experiment';
import { experimentValidator, type JsonSchema, type SchemaDefinition } from './schema';

export interface ExperimentDiagnostic {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (as VS Code counts). */
  column: number;
  /** 1-based line of the end of the range. */
  endLine: number;
  /** 1-based column just after the last character of the range (= column for an empty range). */
  endColumn: number;
  /** 0-based offset of the range in the text. */
  offset: number;
  length: number;
  severity: 'error' | 'warning';
  message: string;
  /** JSON pointer of the field concerned, e.g. "/tasks/1/dataset"; "" for the whole file. */
  pointer: string;
  /**
   * Which check found it. VS Code's JSON language service reports syntax and schema problems of
   * its own (through jsonValidation), so the editor publishes only 'semantic' ones.
   */
  origin: 'syntax' | 'schema' | 'semantic';
}

export interface ParsedExperiment {
  /** Null when any diagnostic is an error. */
  experiment: NormalisedExperiment | null;
  /** Sorted by position. */
  diagnostics: ExperimentDiagnostic[];
}

export const EXPERIMENT_FILE_SUFFIX = '.cl.json';

// The defaults, also written as `default`s in schemas/experiment.schema.json (a test keeps them equal).
export const EXPERIMENT_DEFAULTS: {
  readonly seed: number;
  readonly scenario: Scenario;
  readonly model: Readonly<ModelSpec>;
  readonly training: Readonly<TrainingSpec>;
  readonly strategy: Readonly<StrategySpec>;
  /** optima defaults to [0, tasks.length - 1]. */
  readonly landscape: Readonly<Omit<LandscapeSpec, 'optima'>>;
} = deepFreeze({
  seed: 0,
  scenario: 'domain-il',
  model: { preset: 'small-cnn' },
  training: { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 100, evalSamples: 1000 },
  strategy: { name: 'naive' },
  landscape: {
    grid: 21,
    samples: 1000,
    alphaRange: [-0.5, 1.5],
    betaRange: [-1, 1],
    secondAxis: 'trajectory-pca',
    checkpointEvery: 50,
    linePoints: 41,
  },
});

/** The model presets expanded (the final 10-way layer is implied). */
export const MODEL_PRESETS: Readonly<Record<'small-cnn' | 'mlp', ResolvedModelSpec>> = deepFreeze({
  'small-cnn': {
    type: 'cnn',
    conv: [
      { filters: 32, kernel: 3, pool: 2 },
      { filters: 64, kernel: 3, pool: 2 },
    ],
    dense: [128],
    preset: 'small-cnn',
  },
  mlp: { type: 'mlp', hidden: [400, 400], preset: 'mlp' },
});

// What the semantic checks may assume about the built-in datasets; idx data is checked at run time.
const BUILTIN_IMAGE_SIZE = 28;
const BUILTIN_TEST_SET_SIZE: Readonly<Record<string, number>> = { mnist: 10000, 'fashion-mnist': 10000 };
const IDX_FILES = 'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function clone<T>(value: T): T {
  return structuredClone(value) as T;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Reads a file and parses it; an unreadable file gives one error diagnostic at 1:1. */
export async function loadExperimentFile(file: string): Promise<ParsedExperiment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return {
      experiment: null,
      diagnostics: [
        { file, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 0, severity: 'error', message: `cannot read the experiment file: ${reason}`, pointer: '', origin: 'syntax' },
      ],
    };
  }
  // An editor does not show the byte-order mark either, so positions match what the user sees.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseExperiment(text, file);
}

/** "file:line:column: error: message". */
export function formatDiagnostic(d: ExperimentDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

/**
 * Parses and validates the text of an experiment file. Comments and trailing commas are errors:
 * the file is plain JSON (VS Code's "json" mode, which `*.json` files get, reports them too).
 */
export function parseExperiment(text: string, file: string): ParsedExperiment {
  const doc = new SourceText(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text);
  const findings: Finding[] = [];

  const parseErrors: ParseError[] = [];
  const root = parseTree(doc.text, parseErrors, { allowTrailingComma: false, disallowComments: true });
  const syntax = syntaxFindings(doc, parseErrors).map((f): Finding => ({ ...f, origin: 'syntax' }));
  findings.push(...syntax);

  let spec: ExperimentSpec | undefined;
  if (root) {
    const ctx: Context = { doc, root };
    const value: unknown = getNodeValue(root);
    const checks: Finding[] = [...duplicateKeyFindings(root)];
    const validate = experimentValidator();
    if (validate(value)) spec = value as unknown as ExperimentSpec;
    else checks.push(...schemaFindings(ctx, validate.errors ?? [], '').map((f): Finding => ({ ...f, origin: 'schema' })));
    checks.push(...semanticFindings(ctx, value));
    // Values around a syntax error are the parser's guesses: keep only findings away from them.
    findings.push(...checks.filter((f) => !syntax.some((s) => overlaps(f.subject, s.range))));
  }

  const diagnostics = findings
    .map((f) => doc.diagnostic(file, f))
    .sort((a, b) => a.offset - b.offset || severityRank(a) - severityRank(b));
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { experiment: failed || !spec ? null : normaliseExperiment(spec, file), diagnostics };
}

/**
 * Fills every default into a spec that passed validation. Relative task paths are resolved against
 * the folder of `file`. A single-task experiment gets no landscape (it needs two task optima).
 */
export function normaliseExperiment(spec: ExperimentSpec, file: string): NormalisedExperiment {
  const folder = path.dirname(file);
  const tasks: TaskSpec[] = spec.tasks.map((t) => {
    const task: TaskSpec = { dataset: t.dataset };
    if (t.path !== undefined) task.path = path.resolve(folder, t.path);
    if (t.train !== undefined) task.train = t.train;
    if (t.test !== undefined) task.test = t.test;
    if (t.label !== undefined) task.label = t.label;
    return task;
  });
  const modelSpec = spec.model ?? EXPERIMENT_DEFAULTS.model;
  const model: ResolvedModelSpec = 'preset' in modelSpec ? clone(MODEL_PRESETS[modelSpec.preset]) : resolveCustomModel(modelSpec);
  const landscape: LandscapeSpec | false =
    spec.landscape === false || tasks.length < 2
      ? false
      : { ...withDefaults(EXPERIMENT_DEFAULTS.landscape, spec.landscape), optima: spec.landscape?.optima ? [...spec.landscape.optima] : [0, tasks.length - 1] };
  return {
    name: spec.name ?? experimentNameFromFile(file),
    seed: spec.seed ?? EXPERIMENT_DEFAULTS.seed,
    tasks,
    scenario: spec.scenario ?? EXPERIMENT_DEFAULTS.scenario,
    model,
    training: withDefaults(EXPERIMENT_DEFAULTS.training, spec.training),
    strategy: clone(spec.strategy ?? EXPERIMENT_DEFAULTS.strategy),
    landscape,
  };
}

/** "runs/mnist-then-fashion.cl.json" -> "mnist-then-fashion". */
export function experimentNameFromFile(file: string): string {
  const base = path.basename(file);
  for (const suffix of [EXPERIMENT_FILE_SUFFIX, '.json']) {
    if (base.toLowerCase().endsWith(suffix) && base.length > suffix.length) return base.slice(0, -suffix.length);
  }
  return base;
}

function resolveCustomModel(model: Exclude<ModelSpec, { preset: string }>): ResolvedModelSpec {
  if (model.type === 'mlp') return { type: 'mlp', hidden: [...model.hidden] };
  return { type: 'cnn', conv: model.conv.map((c): ConvLayerSpec => ({ ...c })), dense: [...model.dense] };
}

/** Defaults overridden by the given fields (fields set to undefined keep the default); arrays copied. */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out = clone(defaults) as T;
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = clone(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Positions

interface Range {
  offset: number;
  length: number;
}

interface Finding {
  severity: 'error' | 'warning';
  message: string;
  pointer: string;
  /** Where the diagnostic points. */
  range: Range;
  /** The whole value the finding is about (a syntax error inside it makes the finding moot). */
  subject: Range;
  origin?: ExperimentDiagnostic['origin'];
}

class SourceText {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */ && text.charCodeAt(i + 1) === 10) continue; // \r\n: the \n ends the line
      if (c === 10 || c === 13) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  diagnostic(file: string, f: Finding): ExperimentDiagnostic {
    const start = this.position(f.range.offset);
    const end = this.position(f.range.offset + f.range.length);
    return {
      file,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      offset: f.range.offset,
      length: f.range.length,
      severity: f.severity,
      message: f.message,
      pointer: f.pointer,
      origin: f.origin ?? 'semantic',
    };
  }

  /** Offset just after the last non-whitespace character. */
  get contentEnd(): number {
    return this.text.trimEnd().length;
  }

  spansLines(r: Range): boolean {
    return this.position(r.offset).line !== this.position(r.offset + r.length).line;
  }
}

/** Whether a syntax error's range (an empty one counts as one character) falls inside a value's range. */
function overlaps(value: Range, error: Range): boolean {
  return error.offset < value.offset + value.length && value.offset < error.offset + Math.max(error.length, 1);
}

function severityRank(d: ExperimentDiagnostic): number {
  return d.severity === 'error' ? 0 : 1;
}

function rangeOf(node: Node): Range {
  return { offset: node.offset, length: node.length };
}

// ---------------------------------------------------------------------------------------------
// JSON pointers and the syntax tree

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function toPointer(segments: (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function childPointer(pointer: string, key: string | number): string {
  return pointer + toPointer([key]);
}

/** "/tasks/1/dataset" -> "tasks[1].dataset"; "" -> "the experiment". */
function fieldName(pointer: string): string {
  let out = '';
  for (const s of pointerSegments(pointer)) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out || 'the experiment';
}

/** The parsed file the checks report against. */
interface Context {
  doc: SourceText;
  root: Node;
}

interface Located {
  /** The value at the pointer (absent when the path does not exist). */
  value?: Node;
  /** The property node holding it, when its parent is an object. */
  property?: Node;
  /** The deepest value that exists along the path. */
  nearest: Node;
}

/** Follows a pointer through the tree; of duplicate keys the last one counts (as in the parsed value). */
function locate(root: Node, pointer: string): Located {
  let node: Node = root;
  let property: Node | undefined;
  for (const segment of pointerSegments(pointer)) {
    let next: Node | undefined;
    property = undefined;
    if (node.type === 'object') {
      for (const p of node.children ?? []) if (p.children?.[0]?.value === segment) property = p;
      next = property?.children?.[1];
    } else if (node.type === 'array' && /^\d+$/.test(segment)) {
      next = node.children?.[Number(segment)];
    }
    if (!next) return { nearest: node };
    node = next;
  }
  return { value: node, property, nearest: node };
}

/** A finding about the value at `pointer`: points at the value, or at its key when the value spans lines. */
function atValue(ctx: Context, pointer: string, severity: Finding['severity'], message: string): Finding {
  const at = locate(ctx.root, pointer);
  const node = at.value ?? at.nearest;
  let range = rangeOf(node);
  if ((node.type === 'object' || node.type === 'array') && ctx.doc.spansLines(range)) {
    range = at.property?.children?.[0] ? rangeOf(at.property.children[0]) : { offset: node.offset, length: 1 };
  }
  return { severity, message, pointer, range, subject: rangeOf(at.property ?? node) };
}

/** A finding about an object key (an unknown or duplicate property). */
function atKey(property: Node, pointer: string, severity: Finding['severity'], message: string): Finding {
  const key = property.children?.[0] ?? property;
  return { severity, message, pointer, range: rangeOf(key), subject: rangeOf(property) };
}

// ---------------------------------------------------------------------------------------------
// Syntax

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected a colon ':' after the property name",
  CommaExpected: 'expected a comma before this',
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'expected the end of the file: the file holds a single JSON object',
  InvalidCommentToken: 'comments are not allowed: an experiment file is plain JSON',
  UnexpectedEndOfComment: 'unterminated comment (and comments are not allowed: an experiment file is plain JSON)',
  UnexpectedEndOfString: 'unterminated string: add the closing double quote',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape: expected four hex digits',
  InvalidEscapeCharacter: 'invalid escape sequence in a string (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
  InvalidCharacter: 'invalid character in a string: line breaks and tabs must be written as \\n and \\t',
};

function syntaxFindings(doc: SourceText, errors: ParseError[]): Finding[] {
  if (doc.text.trim() === '') {
    const range = { offset: 0, length: 0 };
    return [{ severity: 'error', message: 'the file is empty: an experiment is a JSON object, e.g. {"tasks": [{"dataset": "mnist"}]}', pointer: '', range, subject: range }];
  }
  const findings: Finding[] = [];
  const seenOffsets = new Set<number>();
  let lastLine = -1;
  for (const e of [...errors].sort((a, b) => a.offset - b.offset)) {
    // The parser often reports one mistake several times in a row; keep the first per line.
    if (seenOffsets.has(e.offset)) continue;
    seenOffsets.add(e.offset);
    const { message, range, inContainer } = describeSyntaxError(doc, e);
    const line = doc.position(range.offset).line;
    if (line === lastLine) continue;
    lastLine = line;
    const location = getLocation(doc.text, e.offset).path;
    while (location.length && location[location.length - 1] === '') location.pop(); // "" = a key being typed
    if (inContainer) location.pop(); // a trailing comma belongs to its object or array, not to a next item
    const pointer = toPointer(location);
    findings.push({ severity: 'error', message, pointer, range, subject: range });
  }
  return findings;
}

function describeSyntaxError(doc: SourceText, e: ParseError): { message: string; range: Range; inContainer?: boolean } {
  const code = printParseErrorCode(e.error);
  const text = doc.text;
  const range = { offset: e.offset, length: e.length };
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const closer = text[e.offset];
    if (closer === '}' || closer === ']') {
      let i = e.offset - 1;
      while (i >= 0 && /\s/.test(text[i])) i--;
      if (text[i] === ',') {
        return { message: `trailing comma: remove the ',' before '${closer}'`, range: { offset: i, length: 1 }, inContainer: closer === ']' };
      }
    }
  }
  if (e.offset >= doc.contentEnd && code !== 'InvalidCommentToken' && code !== 'UnexpectedEndOfComment') {
    const what = SYNTAX_MESSAGES[code] ?? 'more input';
    return { message: `unexpected end of file: ${what}`, range: { offset: doc.contentEnd, length: 0 } };
  }
  if (code === 'InvalidSymbol') {
    const symbol = text.slice(e.offset, e.offset + e.length);
    if (symbol.startsWith("'")) return { message: 'strings and property names must be in double quotes, not single quotes', range };
    if (/^[A-Za-z_]/.test(symbol)) {
      return { message: `unexpected '${symbol}': strings and property names must be in double quotes; the only bare words are true, false and null`, range };
    }
    return { message: `unexpected character '${symbol}'`, range };
  }
  return { message: SYNTAX_MESSAGES[code] ?? `syntax error (${code})`, range };
}

function duplicateKeyFindings(root: Node): Finding[] {
  const findings: Finding[] = [];
  const visit = (node: Node, pointer: string): void => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      const props = node.children ?? [];
      for (let i = props.length - 1; i >= 0; i--) {
        const key = props[i].children?.[0]?.value;
        if (typeof key !== 'string') continue;
        if (seen.has(key)) {
          findings.push(atKey(props[i], childPointer(pointer, key), 'warning', `duplicate property '${key}' in ${fieldName(pointer)}: only the last one is used`));
        }
        seen.add(key);
      }
      for (const p of props) {
        const key = p.children?.[0]?.value;
        if (typeof key === 'string' && p.children?.[1]) visit(p.children[1], childPointer(pointer, key));
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((c, i) => visit(c, childPointer(pointer, i)));
    }
  };
  visit(root, '');
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Schema errors -> findings

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function json(v: Json): string {
  return JSON.stringify(v);
}

function quoteKey(k: string): string {
  return `'${k}'`;
}

function describeValue(v: Json, expectsString: boolean): string {
  if (typeof v === 'string') return expectsString ? json(v) : `the string ${json(v)}`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (isObject(v)) return 'an object';
  if (v === undefined) return 'nothing';
  return json(v);
}

function bounds(s: JsonSchema): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  const xmin = s.exclusiveMinimum as number | undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (xmin !== undefined) return ` > ${xmin}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

/** What a (leaf or array) schema allows, in words: "an integer from 3 to 101", "one of "adam", "sgd"". */
function describeAllowed(s: JsonSchema): string {
  if (Array.isArray(s.enum)) {
    const values = s.enum.map(json);
    return values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
  }
  if (s.const !== undefined) return json(s.const);
  switch (s.type) {
    case 'integer':
      return `an integer${bounds(s)}`;
    case 'number':
      return `a number${bounds(s)}`;
    case 'string':
      return (s.minLength as number | undefined) ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array': {
      const items = isObject(s.items) ? (s.items as JsonSchema) : {};
      const noun = items.type === 'number' ? 'number' : items.type === 'integer' ? 'integer' : 'item';
      const many = (n: number): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
      const min = s.minItems as number | undefined;
      const max = s.maxItems as number | undefined;
      let out = 'an array';
      if (min !== undefined && min === max) out += ` of ${many(min)}`;
      else if (min !== undefined) out += ` of at least ${many(min)}`;
      else if (max !== undefined) out += ` of at most ${many(max)}`;
      else if (noun !== 'item') out += ` of ${noun}s`;
      return out;
    }
    default:
      return 'a valid value';
  }
}

function normalisedName(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The known name a typo most likely meant, if any is close. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  const g = normalisedName(given);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const n = normalisedName(k);
    let score: number;
    if (n === g) score = 0;
    else if (g.length >= 3 && (n.includes(g) || g.includes(n))) score = 1 + Math.abs(n.length - g.length) / 100;
    else {
      const d = editDistance(g, n);
      score = d <= (Math.max(g.length, n.length) >= 5 ? 2 : 1) ? 1 + d : Infinity;
    }
    if (score < bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return bestScore < Infinity ? best : undefined;
}

// Values whose errors are collapsed into one message by choosing the alternative the user meant.
const UNION_POINTERS: Record<string, (ctx: Context, value: Json) => Finding[]> = {
  '/model': modelFindings,
  '/landscape': landscapeFindings,
};

function underPointer(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + '/');
}

function schemaFindings(ctx: Context, errors: ErrorObject[], base: string): Finding[] {
  const findings: Finding[] = [];
  const valueErrors = new Map<string, ErrorObject[]>();
  const unions = new Set<string>();
  for (const e of errors) {
    const pointer = base + e.instancePath;
    const union = Object.keys(UNION_POINTERS).find((u) => underPointer(pointer, u) && !underPointer(base, u));
    if (union) {
      unions.add(union);
      continue;
    }
    switch (e.keyword) {
      case 'if':
      case 'oneOf':
      case 'anyOf':
        break; // their sub-errors say more
      case 'required':
        findings.push(requiredFinding(ctx, pointer, e));
        break;
      case 'additionalProperties':
        findings.push(unknownPropertyFinding(ctx, pointer, e));
        break;
      default: {
        const list = valueErrors.get(pointer) ?? [];
        list.push(e);
        valueErrors.set(pointer, list);
      }
    }
  }
  for (const [pointer, list] of valueErrors) findings.push(valueFinding(ctx, pointer, list));
  for (const union of unions) {
    const at = locate(ctx.root, union);
    if (at.value) findings.push(...UNION_POINTERS[union](ctx, getNodeValue(at.value)));
  }
  return findings;
}

function valueFinding(ctx: Context, pointer: string, errors: ErrorObject[]): Finding {
  const schema = (errors[0].parentSchema ?? {}) as JsonSchema;
  const value: Json = errors[0].data;
  if (pointer === '/tasks' && Array.isArray(value) && value.length === 0) {
    return atValue(ctx, pointer, 'error', 'tasks is empty: list at least one task, e.g. [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}]');
  }
  const allowed = describeAllowed(schema);
  let message = `${fieldName(pointer)} must be ${allowed}, got ${describeValue(value, schema.type === 'string')}`;
  if (Array.isArray(schema.enum) && typeof value === 'string') {
    const suggestion = closestName(value, schema.enum as string[]);
    if (suggestion !== undefined) message += ` — did you mean ${json(suggestion)}?`;
  }
  return atValue(ctx, pointer, 'error', message);
}

function requiredFinding(ctx: Context, pointer: string, e: ErrorObject): Finding {
  const missing = (e.params as { missingProperty: string }).missingProperty;
  const parent = isObject(e.data) ? e.data : {};
  const target = childPointer(pointer, missing);
  if (missing === 'path' && parent.dataset === 'idx') {
    const finding = atValue(ctx, childPointer(pointer, 'dataset'), 'error', `${fieldName(pointer)}: dataset "idx" needs a 'path': the folder holding ${IDX_FILES} (raw or .gz)`);
    return { ...finding, pointer: target };
  }
  const props = ((e.parentSchema as JsonSchema | undefined)?.properties ?? {}) as Record<string, JsonSchema>;
  const prop = props[missing] ?? {};
  let hint = '';
  if (Array.isArray(prop.enum)) hint = ` (${describeAllowed(prop)})`;
  else if (Array.isArray(prop.examples)) hint = `, e.g. ${json(prop.examples[0])}`;
  else if (prop.default !== undefined) hint = `, e.g. ${json(prop.default)}`;
  const finding = atValue(ctx, pointer, 'error', `${fieldName(pointer)} is missing the required property '${missing}'${hint}`);
  // Point at the object's key (or its opening brace), not the whole, possibly long, object.
  const at = locate(ctx.root, pointer);
  if (at.value && (at.value.type === 'object' || at.value.type === 'array')) {
    finding.range = at.property?.children?.[0] ? rangeOf(at.property.children[0]) : { offset: at.value.offset, length: 1 };
  }
  return { ...finding, pointer: target };
}

function unknownPropertyFinding(ctx: Context, pointer: string, e: ErrorObject): Finding {
  const key = (e.params as { additionalProperty: string }).additionalProperty;
  const known = Object.keys(((e.parentSchema as JsonSchema | undefined)?.properties ?? {}) as object);
  const suggestion = closestName(key, known);
  const where = fieldName(pointer);
  const message = suggestion
    ? `unknown property '${key}' in ${where} — did you mean '${suggestion}'?`
    : `unknown property '${key}' in ${where}; allowed: ${known.map(quoteKey).join(', ')}`;
  const at = locate(ctx.root, childPointer(pointer, key));
  if (at.property) return atKey(at.property, childPointer(pointer, key), 'error', message);
  return atValue(ctx, pointer, 'error', message);
}

function alternativeFindings(ctx: Context, pointer: string, definition: SchemaDefinition, value: Json): Finding[] {
  const validate = experimentValidator(definition);
  if (validate(value)) return [];
  return schemaFindings(ctx, validate.errors ?? [], pointer);
}

const MODEL_SHAPES = '{"preset": "small-cnn"}, {"preset": "mlp"}, {"type": "mlp", "hidden": [...]} or {"type": "cnn", "conv": [...], "dense": [...]}';

function modelFindings(ctx: Context, model: Json): Finding[] {
  const p = '/model';
  if (!isObject(model)) return [atValue(ctx, p, 'error', `model must be an object, one of ${MODEL_SHAPES}; got ${describeValue(model, false)}`)];
  if ('preset' in model && 'type' in model) {
    return [atValue(ctx, p, 'error', `model has both 'preset' and 'type': use a preset ({"preset": "small-cnn"} or {"preset": "mlp"}) or a custom model ({"type": "mlp", ...} or {"type": "cnn", ...}), not both`)];
  }
  if ('preset' in model) return alternativeFindings(ctx, p, 'modelPreset', model);
  if (model.type === 'mlp') return alternativeFindings(ctx, p, 'modelMlp', model);
  if (model.type === 'cnn') return alternativeFindings(ctx, p, 'modelCnn', model);
  if ('type' in model) {
    const suggestion = typeof model.type === 'string' ? closestName(model.type, ['mlp', 'cnn']) : undefined;
    const mean = suggestion ? ` — did you mean "${suggestion}"?` : '';
    return [atValue(ctx, '/model/type', 'error', `model.type must be "mlp" (with 'hidden') or "cnn" (with 'conv' and 'dense'), got ${describeValue(model.type, true)}${mean}`)];
  }
  const typo = Object.keys(model)
    .map((k) => ({ k, s: closestName(k, ['preset', 'type']) }))
    .find((x) => x.s);
  const mean = typo ? ` (is '${typo.k}' meant to be '${typo.s}'?)` : '';
  return [atValue(ctx, p, 'error', `model needs a 'preset' ("small-cnn" or "mlp") or a 'type' ("mlp" with 'hidden', or "cnn" with 'conv' and 'dense')${mean}`)];
}

function landscapeFindings(ctx: Context, landscape: Json): Finding[] {
  if (isObject(landscape)) return alternativeFindings(ctx, '/landscape', 'landscapeSettings', landscape);
  if (landscape === false) return [];
  return [atValue(ctx, '/landscape', 'error', `landscape must be false (no landscape) or an object of settings such as {"grid": 21, "samples": 1000}, got ${describeValue(landscape, false)}`)];
}

// ---------------------------------------------------------------------------------------------
// Semantic checks the schema cannot express. They read the value defensively: parts that failed
// the schema are skipped (their errors are already reported).

function isCount(v: Json): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

function semanticFindings(ctx: Context, value: Json): Finding[] {
  if (!isObject(value)) return [];
  const findings: Finding[] = [];
  const tasks = Array.isArray(value.tasks) ? value.tasks.filter(isObject) : [];
  const taskCount = Array.isArray(value.tasks) ? value.tasks.length : 0;

  const landscape = value.landscape;
  if (isObject(landscape) && Array.isArray(value.tasks) && taskCount >= 1) {
    const optima = landscape.optima;
    const validOptima = Array.isArray(optima) && optima.length === 2 && optima.every((o) => Number.isInteger(o) && (o as number) >= 0);
    if (taskCount < 2) {
      findings.push(
        atValue(ctx, optima !== undefined ? '/landscape/optima' : '/landscape', 'warning', 'no landscape will be computed: the experiment has a single task, and the plane needs the optima of two tasks'),
      );
    } else if (validOptima) {
      const [a, b] = optima as number[];
      const out = [a, b].map((o, i) => ({ o, i })).filter(({ o }) => o >= taskCount);
      for (const { o, i } of out) {
        findings.push(atValue(ctx, `/landscape/optima/${i}`, 'error', `landscape.optima[${i}] is ${o}, but there are only ${taskCount} tasks: use task indexes 0 to ${taskCount - 1}`));
      }
      if (out.length === 0 && a === b) {
        findings.push(atValue(ctx, '/landscape/optima', 'error', `landscape.optima names task ${a} twice: the plane needs two different tasks (indexes 0 to ${taskCount - 1})`));
      }
    }
  }
  if (isObject(landscape)) {
    for (const key of ['alphaRange', 'betaRange']) {
      const r = landscape[key];
      if (Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number') && (r[0] as number) >= (r[1] as number)) {
        findings.push(atValue(ctx, `/landscape/${key}`, 'error', `landscape.${key} must be [min, max] with min < max, got [${r[0]}, ${r[1]}]`));
      }
    }
  }

  // Curves and landscape draw their examples from each task's test set (or its subset).
  const testSizes = tasks.map((t, i) => ({ i, t, size: isCount(t.test) ? t.test : BUILTIN_TEST_SET_SIZE[t.dataset as string] }));
  const tooFew = (n: number, pointer: string, what: string, use: string): void => {
    const short = testSizes.filter((x) => x.size !== undefined && x.size < n);
    if (!short.length) return;
    const list = short.map((x) => `tasks[${x.i}] (${x.size})`).join(', ');
    findings.push(atValue(ctx, pointer, 'warning', `${what} is ${n}, more than the test examples of ${list}: ${use} will use all of them`));
  };
  if (isObject(value.training) && isCount(value.training.evalSamples)) {
    tooFew(value.training.evalSamples, '/training/evalSamples', 'training.evalSamples', 'the accuracy curves of those tasks');
  }
  if (isObject(landscape) && isCount(landscape.samples) && taskCount >= 2) {
    tooFew(landscape.samples, '/landscape/samples', 'landscape.samples', 'the landscape');
  }

  const model = value.model;
  const usesBuiltinImages = tasks.some((t) => t.dataset === 'mnist' || t.dataset === 'fashion-mnist');
  if (isObject(model) && model.type === 'cnn' && !('preset' in model) && Array.isArray(model.conv) && usesBuiltinImages) {
    const shrink = convShrinkFinding(ctx, model.conv);
    if (shrink) findings.push(shrink);
  }
  return findings;
}

/** The first conv or pool of the stack that gets an input smaller than itself (28x28 images). */
function convShrinkFinding(ctx: Context, conv: Json[]): Finding | undefined {
  let size = BUILTIN_IMAGE_SIZE;
  const trace = [`${size}x${size} image`];
  for (let i = 0; i < conv.length; i++) {
    const layer = conv[i];
    if (!isObject(layer) || !isCount(layer.kernel)) return undefined;
    const k = layer.kernel;
    if (size < k) {
      return atValue(
        ctx,
        `/model/conv/${i}/kernel`,
        'error',
        `model.conv[${i}]: the ${k}x${k} conv gets a ${size}x${size} input (${trace.join(' → ')}), smaller than its kernel; use a smaller kernel, less pooling or fewer conv layers`,
      );
    }
    size = size - k + 1;
    trace.push(`conv[${i}] ${size}x${size}`);
    if (layer.pool === undefined) continue;
    if (!isCount(layer.pool)) return undefined;
    const p = layer.pool;
    if (p === 1) continue;
    if (size < p) {
      return atValue(
        ctx,
        `/model/conv/${i}/pool`,
        'error',
        `model.conv[${i}]: the ${p}x${p} max-pool gets a ${size}x${size} input (${trace.join(' → ')}), smaller than the pool; use a smaller pool, smaller kernels or fewer conv layers`,
      );
    }
    size = Math.floor(size / p);
    trace.push(`pool ${size}x${size}`);
  }
  return undefined;
}
