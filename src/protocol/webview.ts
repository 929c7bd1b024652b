// Messages between the extension host and the workbench webview. The webview sends 'ready'; the
// host answers with a full snapshot, then batches of run events (throttled). Everything the
// webview sends is untrusted input to the host: validateFromWebviewMessage checks each message's
// shape, field types and sizes, and WebviewMessageGate drops (and logs, once per kind) the rest.
import type { Comparison } from './compare';
import type { RunEvent } from './events';
import type { LandscapeResult } from './result';
import type { RunState } from './runState';

/** 'compare': a comparison of several runs (the compare panel, compare.html), not one run. */
export type PanelMode = 'live' | 'saved' | 'report' | 'compare';

export type ToWebviewMessage =
  | { type: 'snapshot'; state: RunState | null; mode: PanelMode; canRun: boolean; experimentFile?: string }
  | { type: 'events'; events: RunEvent[] }
  /** The compare panel's content (replaces whatever the panel showed); `report`: a standalone compare.html. */
  | { type: 'comparison'; comparison: Comparison; report?: boolean }
  | LandscapeListMessage
  | LandscapeJobMessage
  | LandscapeShowMessage;

/**
 * The run panel's landscapes (extension/landscapeJobs.ts): the planes saved in the run folder
 * (basenames, landscape-*.json, newest first) and which one is shown (null: the run's own).
 * canCompute: the host would start a landscape-only job (a trusted workspace); blocked says why not.
 * Whether the run itself allows one (finished, kept its weights) the webview reads from the result.
 */
export interface LandscapeListMessage {
  type: 'landscapeList';
  files: string[];
  shown: string | null;
  canCompute: boolean;
  blocked?: string;
}

/** A landscape-only job of this panel: its progress, then how it ended (or why it was refused). */
export type LandscapeJobMessage =
  | { type: 'landscapeJob'; state: 'running'; optima: [number, number]; secondAxis: LandscapeSecondAxis; done: number; total: number; phase: string }
  | { type: 'landscapeJob'; state: 'completed' | 'cancelled' | 'failed' | 'refused'; error?: string; file?: string };

/** A saved landscape to draw (file: its basename in the run folder). */
export interface LandscapeShowMessage {
  type: 'landscapeShow';
  file: string;
  landscape: LandscapeResult;
}

/** The second axis the run panel asks for: as the engine names them, or through another phase's end weights of this run. */
export type LandscapeSecondAxis = 'trajectory-pca' | 'random' | { phase: number };

/** A landscape file a job saved beside result.json (engine/landscape/job.ts landscapeJobFile): a plain basename. */
export const LANDSCAPE_FILE = /^landscape-[A-Za-z0-9._-]+\.json$/;
/** More phases than any run has: a bound on the indexes a message may carry (the host checks the run's own count). */
export const MAX_PHASE_INDEX = 10_000;

export type ExportFormat = 'svg' | 'png' | 'csv' | 'json';

/** A Content-Security-Policy violation the webview saw (its securitypolicyviolation event). */
export interface CspViolationMessage {
  type: 'cspViolation';
  /** The directive that blocked it: "style-src-attr", "img-src"… */
  directive: string;
  /** What was blocked: a URL, or "inline" / "eval" / "data". */
  blockedURI: string;
  sourceFile?: string;
  line?: number;
  column?: number;
  /** The first characters of the blocked inline code (when the policy reports samples). */
  sample?: string;
}

export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'rerun' }
  | { type: 'runFile' }
  | { type: 'openExperiment' }
  | { type: 'openAsJson' }
  /** content: UTF-8 text for svg/csv/json, base64 (no data: prefix) for png. name: suggested file name. */
  | { type: 'export'; format: ExportFormat; name: string; content: string }
  | CspViolationMessage
  /** A plane through phases optima[0] (θ_A) and optima[1] (θ_B) of this run, recomputed from its weights. */
  | { type: 'computeLandscape'; optima: [number, number]; secondAxis: LandscapeSecondAxis }
  | { type: 'cancelLandscape' }
  /** Show a saved landscape of this run (a basename matching LANDSCAPE_FILE); without `file`, the run's own. */
  | { type: 'showLandscape'; file?: string };

const EXPORT_FORMATS: readonly string[] = ['svg', 'png', 'csv', 'json'];
/** The largest export accepted, in characters: a 300-dpi landscape PNG is a few MB of base64. */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;
export const CSP_LIMITS = { directive: 100, blockedURI: 2048, sourceFile: 2048, sample: 256 } as const;
/** Keys that must never reach code that copies or merges objects. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Fields each message type may carry besides `type` (required ones first). */
const FIELDS: Readonly<Record<FromWebviewMessage['type'], readonly string[]>> = {
  ready: [],
  cancel: [],
  rerun: [],
  runFile: [],
  openExperiment: [],
  openAsJson: [],
  export: ['format', 'name', 'content'],
  cspViolation: ['directive', 'blockedURI', 'sourceFile', 'line', 'column', 'sample'],
  computeLandscape: ['optima', 'secondAxis'],
  cancelLandscape: [],
  showLandscape: ['file'],
};
const MAX_FIELDS = 8;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why a message was dropped. `kind` is from a fixed set (never text from the message), so logging
 * once per kind stays bounded whatever the webview sends.
 */
export interface DroppedMessage {
  ok: false;
  kind: string;
  reason: string;
}
export type ValidatedMessage = { ok: true; message: FromWebviewMessage } | DroppedMessage;

const drop = (kind: string, reason: string): DroppedMessage => ({ ok: false, kind, reason });
/** A value quoted for a log line, cut short: the webview controls it. */
const quote = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v);

function isPlainObject(m: unknown): m is Record<string, unknown> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const proto: unknown = Object.getPrototypeOf(m);
  return proto === Object.prototype || proto === null;
}

function stringField(o: Record<string, unknown>, key: string, max: number, type: string, required: boolean): DroppedMessage | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') return drop(`${type}:field-type`, `'${type}' needs ${key} as a string, got ${v === undefined ? 'nothing' : typeof v}`);
  if (v.length > max) return drop(`${type}:too-large`, `'${type}' ${key} has ${v.length} characters, more than ${max}`);
  return undefined;
}

function countField(o: Record<string, unknown>, key: string, type: string): DroppedMessage | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return drop(`${type}:field-type`, `'${type}' needs ${key} as a whole number ≥ 0, got ${quote(v)}`);
  return undefined;
}

const isPhaseIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_PHASE_INDEX;

function landscapeRequest(m: Record<string, unknown>): ValidatedMessage {
  const o = m.optima;
  if (!Array.isArray(o) || o.length !== 2 || !isPhaseIndex(o[0]) || !isPhaseIndex(o[1]))
    return drop('computeLandscape:optima', `optima must be two phase indexes (whole numbers 0 to ${MAX_PHASE_INDEX}), got ${Array.isArray(o) ? `an array of ${o.length}` : quote(o)}`);
  if (o[0] === o[1]) return drop('computeLandscape:optima', `the plane needs two different optima, got phase ${o[0]} twice`);
  const axis = m.secondAxis;
  let secondAxis: LandscapeSecondAxis;
  if (axis === 'trajectory-pca' || axis === 'random') secondAxis = axis;
  else if (isPlainObject(axis)) {
    const keys = Object.keys(axis);
    if (keys.length !== 1 || keys[0] !== 'phase' || !isPhaseIndex(axis.phase)) return drop('computeLandscape:second-axis', 'a third point is {phase} with a phase index and nothing else');
    secondAxis = { phase: axis.phase };
  } else return drop('computeLandscape:second-axis', `secondAxis ${quote(axis)} is not 'trajectory-pca', 'random' or {phase}`);
  return { ok: true, message: { type: 'computeLandscape', optima: [o[0], o[1]], secondAxis } };
}

/** Checks a message received from the webview: its shape, every field's type and size, no extra fields. */
export function validateFromWebviewMessage(m: unknown): ValidatedMessage {
  if (!isPlainObject(m)) return drop('not-an-object', `expected a plain object, got ${Array.isArray(m) ? 'an array' : m === null ? 'null' : typeof m}`);
  const keys = Object.keys(m);
  if (keys.length > MAX_FIELDS) return drop('too-many-fields', `${keys.length} fields, at most ${MAX_FIELDS}`);
  const forbidden = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (forbidden) return drop('forbidden-key', `a field named ${forbidden}`);
  const type = m.type;
  if (typeof type !== 'string') return drop('missing-type', `no string 'type' (got ${quote(type)})`);
  if (!Object.prototype.hasOwnProperty.call(FIELDS, type)) return drop('unknown-type', `unknown type ${quote(type)}`);
  const t = type as FromWebviewMessage['type'];
  const allowed = FIELDS[t];
  const extra = keys.find((k) => k !== 'type' && !allowed.includes(k));
  if (extra) return drop(`${t}:unexpected-field`, `'${t}' does not take a field ${quote(extra)}`);

  switch (t) {
    case 'ready':
    case 'cancel':
    case 'rerun':
    case 'runFile':
    case 'openExperiment':
    case 'openAsJson':
    case 'cancelLandscape':
      return { ok: true, message: { type: t } };
    case 'computeLandscape':
      return landscapeRequest(m);
    case 'showLandscape': {
      if (m.file === undefined) return { ok: true, message: { type: t } };
      if (typeof m.file !== 'string' || m.file.length > 200 || !LANDSCAPE_FILE.test(m.file) || /^landscape-\.+json$/.test(m.file))
        return drop('showLandscape:file', `file ${quote(m.file)} is not the basename of a saved landscape (landscape-*.json)`);
      return { ok: true, message: { type: t, file: m.file } };
    }
    case 'export': {
      if (typeof m.format !== 'string' || !EXPORT_FORMATS.includes(m.format)) return drop('export:format', `export format ${quote(m.format)} is not one of ${EXPORT_FORMATS.join(', ')}`);
      if (typeof m.name !== 'string' || !/^[\w.\- ]{1,120}$/.test(m.name) || /^\.+$/.test(m.name.trim()))
        return drop('export:name', `export name ${quote(m.name)} is not a plain file name (letters, digits, . _ - and spaces, at most 120)`);
      const content = stringField(m, 'content', MAX_EXPORT_CHARS, 'export', true);
      if (content) return content;
      const text = m.content as string;
      if (m.format === 'png' && !BASE64.test(text)) return drop('export:content', 'PNG export content is not base64');
      return { ok: true, message: { type: 'export', format: m.format as ExportFormat, name: m.name, content: text } };
    }
    case 'cspViolation': {
      const problem =
        stringField(m, 'directive', CSP_LIMITS.directive, t, true) ??
        stringField(m, 'blockedURI', CSP_LIMITS.blockedURI, t, true) ??
        stringField(m, 'sourceFile', CSP_LIMITS.sourceFile, t, false) ??
        stringField(m, 'sample', CSP_LIMITS.sample, t, false) ??
        countField(m, 'line', t) ??
        countField(m, 'column', t);
      if (problem) return problem;
      const out: CspViolationMessage = { type: t, directive: m.directive as string, blockedURI: m.blockedURI as string };
      if (m.sourceFile !== undefined) out.sourceFile = m.sourceFile as string;
      if (m.line !== undefined) out.line = m.line as number;
      if (m.column !== undefined) out.column = m.column as number;
      if (m.sample !== undefined) out.sample = m.sample as string;
      return { ok: true, message: out };
    }
    default: {
      const never: never = t;
      return drop('unknown-type', `unknown type ${quote(never)}`);
    }
  }
}

/** Validates a message received from the webview; anything else is dropped by the host. */
export function parseFromWebviewMessage(m: unknown): FromWebviewMessage | null {
  const r = validateFromWebviewMessage(m);
  return r.ok ? r.message : null;
}

/**
 * The host's door for webview messages: passes valid ones, drops the rest. The first drop of each
 * kind is logged with its reason; later ones only at 10, 100, 1000… so a misbehaving webview
 * cannot flood the output.
 */
export class WebviewMessageGate {
  private readonly drops = new Map<string, number>();

  constructor(private readonly log: (line: string) => void) {}

  accept(raw: unknown): FromWebviewMessage | null {
    const r = validateFromWebviewMessage(raw);
    if (r.ok) return r.message;
    const n = (this.drops.get(r.kind) ?? 0) + 1;
    this.drops.set(r.kind, n);
    if (n === 1) this.log(`dropped a malformed message from the webview (${r.kind}): ${r.reason}. Further ones of this kind are counted, not logged.`);
    else if (Number.isInteger(Math.log10(n))) this.log(`dropped ${n} malformed messages of kind ${r.kind} from the webview so far`);
    return null;
  }

  /** Messages dropped so far, by kind. */
  get dropped(): ReadonlyMap<string, number> {
    return this.drops;
  }
}

/** What a securitypolicyviolation event carries (structurally: protocol/ knows no DOM types). */
export interface CspViolationEventLike {
  effectiveDirective?: string;
  violatedDirective?: string;
  blockedURI?: string;
  sourceFile?: string;
  lineNumber?: number;
  columnNumber?: number;
  sample?: string;
}

const cut = (s: unknown, max: number) => (typeof s === 'string' ? s.slice(0, max) : '');
const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined);

/** The message the webview sends for a violation, cut to the sizes the host accepts. */
export function cspViolationMessage(e: CspViolationEventLike): CspViolationMessage {
  const m: CspViolationMessage = {
    type: 'cspViolation',
    directive: cut(e.effectiveDirective || e.violatedDirective || 'unknown', CSP_LIMITS.directive),
    blockedURI: cut(e.blockedURI, CSP_LIMITS.blockedURI),
  };
  if (e.sourceFile) m.sourceFile = cut(e.sourceFile, CSP_LIMITS.sourceFile);
  const line = count(e.lineNumber);
  const column = count(e.columnNumber);
  if (line !== undefined) m.line = line;
  if (column !== undefined) m.column = column;
  if (e.sample) m.sample = cut(e.sample, CSP_LIMITS.sample);
  return m;
}

/** One log line for a violation: "style-src-attr blocked inline at webview.js:12:5 (sample: …)". */
export function describeCspViolation(m: CspViolationMessage): string {
  const where = m.sourceFile ? ` at ${m.sourceFile}${m.line !== undefined ? `:${m.line}${m.column !== undefined ? `:${m.column}` : ''}` : ''}` : '';
  const sample = m.sample ? ` (sample: ${JSON.stringify(m.sample)})` : '';
  return `${m.directive} blocked ${m.blockedURI || 'inline'}${where}${sample}`;
}
