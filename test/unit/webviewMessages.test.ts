// Every message from the webview is untrusted input to the extension host: the validator passes
// exactly the shapes the webview sends, and the host's gate drops the rest, logging each kind once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CSP_LIMITS,
  MAX_EXPORT_CHARS,
  WebviewMessageGate,
  cspViolationMessage,
  describeCspViolation,
  parseFromWebviewMessage,
  validateFromWebviewMessage,
  type FromWebviewMessage,
} from '../../src/protocol/webview';

const PNG_B64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString('base64');

/** What the webview really sends (header.ts, exporting.ts, main.ts): all accepted, unchanged. */
const VALID: FromWebviewMessage[] = [
  { type: 'ready' },
  { type: 'cancel' },
  { type: 'rerun' },
  { type: 'runFile' },
  { type: 'openExperiment' },
  { type: 'openAsJson' },
  { type: 'export', format: 'svg', name: 'tiny-seed-0-curves.svg', content: '<svg/>' },
  { type: 'export', format: 'png', name: 'tiny-seed-0-accuracy-matrix.png', content: PNG_B64 },
  { type: 'export', format: 'csv', name: 'accuracy matrix.csv', content: 'a,b\n1,2\n' },
  { type: 'export', format: 'json', name: 'result.json', content: '{}' },
  { type: 'cspViolation', directive: 'style-src-attr', blockedURI: 'inline' },
  { type: 'cspViolation', directive: 'img-src', blockedURI: 'https://example.com/x.png', sourceFile: 'https://x.vscode-cdn.net/dist/webview.js', line: 12, column: 3, sample: 'color:red' },
  // The run panel's landscape chooser (cards/run/landscape.ts).
  { type: 'computeLandscape', optima: [0, 2], secondAxis: 'trajectory-pca' },
  { type: 'computeLandscape', optima: [2, 0], secondAxis: 'random' },
  { type: 'computeLandscape', optima: [0, 1], secondAxis: { phase: 2 } },
  { type: 'cancelLandscape' },
  { type: 'showLandscape', file: 'landscape-0-2-pca.json' },
  { type: 'showLandscape', file: 'landscape-1-0-run-other_run-last-0a1b2c3d-g9.json' },
  { type: 'showLandscape' },
];

/** [what is wrong, the message, the kind it is dropped as]. */
const MALFORMED: [string, unknown, string][] = [
  ['undefined', undefined, 'not-an-object'],
  ['null', null, 'not-an-object'],
  ['a string', 'ready', 'not-an-object'],
  ['a number', 42, 'not-an-object'],
  ['a boolean', true, 'not-an-object'],
  ['an array', [{ type: 'ready' }], 'not-an-object'],
  ['an array with a type', Object.assign([], { type: 'ready' }), 'not-an-object'],
  ['a class instance', new (class Msg { type = 'ready'; })(), 'not-an-object'],
  ['a Date', new Date(), 'not-an-object'],
  ['a function', () => ({ type: 'ready' }), 'not-an-object'],
  ['no type', {}, 'missing-type'],
  ['type null', { type: null }, 'missing-type'],
  ['type a number', { type: 1 }, 'missing-type'],
  ['type an object', { type: { toString: () => 'ready' } }, 'missing-type'],
  ['type an array', { type: ['ready'] }, 'missing-type'],
  ['unknown type', { type: 'deleteWorkspace' }, 'unknown-type'],
  ['type in other case', { type: 'Ready' }, 'unknown-type'],
  ['type with spaces', { type: ' ready' }, 'unknown-type'],
  ['type from Object.prototype', { type: 'toString' }, 'unknown-type'],
  ['type __proto__', { type: '__proto__' }, 'unknown-type'],
  ['type hasOwnProperty', { type: 'hasOwnProperty' }, 'unknown-type'],
  ['a huge unknown type', { type: 'x'.repeat(1_000_000) }, 'unknown-type'],
  ['own __proto__ key (JSON)', JSON.parse('{"type":"ready","__proto__":{"polluted":true}}'), 'forbidden-key'],
  ['own constructor key', { type: 'ready', constructor: { prototype: { polluted: true } } }, 'forbidden-key'],
  ['own prototype key', { type: 'cancel', prototype: {} }, 'forbidden-key'],
  ['__proto__ in an export', JSON.parse('{"type":"export","format":"svg","name":"a.svg","content":"","__proto__":{"x":1}}'), 'forbidden-key'],
  ['too many fields', Object.fromEntries([['type', 'ready'], ...Array.from({ length: 20 }, (_, i) => [`f${i}`, i])]), 'too-many-fields'],
  ['a million fields', Object.fromEntries(Array.from({ length: 1_000_000 }, (_, i) => [`f${i}`, i])), 'too-many-fields'],
  ['extra field on ready', { type: 'ready', state: {} }, 'ready:unexpected-field'],
  ['extra field on rerun', { type: 'rerun', experiment: { seed: 1 } }, 'rerun:unexpected-field'],
  ['extra field on runFile', { type: 'runFile', file: '/etc/passwd' }, 'runFile:unexpected-field'],
  ['extra field on export', { type: 'export', format: 'svg', name: 'a.svg', content: '', path: '/etc/passwd' }, 'export:unexpected-field'],
  ['export without format', { type: 'export', name: 'a.svg', content: '' }, 'export:format'],
  ['export format unknown', { type: 'export', format: 'exe', name: 'a.exe', content: '' }, 'export:format'],
  ['export format upper case', { type: 'export', format: 'SVG', name: 'a.svg', content: '' }, 'export:format'],
  ['export format a number', { type: 'export', format: 1, name: 'a.svg', content: '' }, 'export:format'],
  ['export without name', { type: 'export', format: 'svg', content: '' }, 'export:name'],
  ['export name a number', { type: 'export', format: 'svg', name: 7, content: '' }, 'export:name'],
  ['export name empty', { type: 'export', format: 'svg', name: '', content: '' }, 'export:name'],
  ['export name with a path', { type: 'export', format: 'svg', name: '../../.bashrc', content: '' }, 'export:name'],
  ['export name absolute', { type: 'export', format: 'svg', name: '/etc/passwd', content: '' }, 'export:name'],
  ['export name with a backslash', { type: 'export', format: 'svg', name: '..\\..\\a.svg', content: '' }, 'export:name'],
  ['export name only dots', { type: 'export', format: 'svg', name: '..', content: '' }, 'export:name'],
  ['export name with a newline', { type: 'export', format: 'svg', name: 'a\n.svg', content: '' }, 'export:name'],
  ['export name with NUL', { type: 'export', format: 'svg', name: 'a\u0000.svg', content: '' }, 'export:name'],
  ['export name too long', { type: 'export', format: 'svg', name: `${'a'.repeat(200)}.svg`, content: '' }, 'export:name'],
  ['export without content', { type: 'export', format: 'svg', name: 'a.svg' }, 'export:field-type'],
  ['export content null', { type: 'export', format: 'svg', name: 'a.svg', content: null }, 'export:field-type'],
  ['export content bytes', { type: 'export', format: 'png', name: 'a.png', content: [1, 2, 3] }, 'export:field-type'],
  ['export content an object', { type: 'export', format: 'json', name: 'a.json', content: { a: 1 } }, 'export:field-type'],
  ['an export of 100 MB', { type: 'export', format: 'svg', name: 'big.svg', content: 'x'.repeat(100 * 1024 * 1024) }, 'export:too-large'],
  ['an export one over the limit', { type: 'export', format: 'csv', name: 'big.csv', content: 'x'.repeat(MAX_EXPORT_CHARS + 1) }, 'export:too-large'],
  ['PNG content not base64', { type: 'export', format: 'png', name: 'a.png', content: 'data:image/png;base64,iVBOR' }, 'export:content'],
  ['cspViolation without directive', { type: 'cspViolation', blockedURI: 'inline' }, 'cspViolation:field-type'],
  ['cspViolation without blockedURI', { type: 'cspViolation', directive: 'img-src' }, 'cspViolation:field-type'],
  ['cspViolation directive a number', { type: 'cspViolation', directive: 3, blockedURI: '' }, 'cspViolation:field-type'],
  ['cspViolation line a string', { type: 'cspViolation', directive: 'img-src', blockedURI: '', line: '12' }, 'cspViolation:field-type'],
  ['cspViolation line negative', { type: 'cspViolation', directive: 'img-src', blockedURI: '', line: -1 }, 'cspViolation:field-type'],
  ['cspViolation line fractional', { type: 'cspViolation', directive: 'img-src', blockedURI: '', line: 1.5 }, 'cspViolation:field-type'],
  ['cspViolation line NaN', { type: 'cspViolation', directive: 'img-src', blockedURI: '', line: NaN }, 'cspViolation:field-type'],
  ['cspViolation column Infinity', { type: 'cspViolation', directive: 'img-src', blockedURI: '', column: Infinity }, 'cspViolation:field-type'],
  ['cspViolation huge directive', { type: 'cspViolation', directive: 'x'.repeat(CSP_LIMITS.directive + 1), blockedURI: '' }, 'cspViolation:too-large'],
  ['cspViolation huge blockedURI', { type: 'cspViolation', directive: 'img-src', blockedURI: 'x'.repeat(10 * 1024 * 1024) }, 'cspViolation:too-large'],
  ['cspViolation huge sample', { type: 'cspViolation', directive: 'img-src', blockedURI: '', sample: 'x'.repeat(CSP_LIMITS.sample + 1) }, 'cspViolation:too-large'],
  ['cspViolation sample an object', { type: 'cspViolation', directive: 'img-src', blockedURI: '', sample: { length: 1 } }, 'cspViolation:field-type'],
  ['cspViolation extra field', { type: 'cspViolation', directive: 'img-src', blockedURI: '', html: '<script>' }, 'cspViolation:unexpected-field'],
  ['computeLandscape without optima', { type: 'computeLandscape', secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optima one phase', { type: 'computeLandscape', optima: [0], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optima three phases', { type: 'computeLandscape', optima: [0, 1, 2], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optima strings', { type: 'computeLandscape', optima: ['0', '1'], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optimum negative', { type: 'computeLandscape', optima: [-1, 1], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optimum fractional', { type: 'computeLandscape', optima: [0, 1.5], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optimum NaN', { type: 'computeLandscape', optima: [0, NaN], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optimum past any run', { type: 'computeLandscape', optima: [0, 1e9], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape optima an object', { type: 'computeLandscape', optima: { 0: 0, 1: 1, length: 2 }, secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape the same phase twice', { type: 'computeLandscape', optima: [1, 1], secondAxis: 'random' }, 'computeLandscape:optima'],
  ['computeLandscape without an axis', { type: 'computeLandscape', optima: [0, 1] }, 'computeLandscape:second-axis'],
  ['computeLandscape axis unknown', { type: 'computeLandscape', optima: [0, 1], secondAxis: 'pca' }, 'computeLandscape:second-axis'],
  ['computeLandscape axis through another run folder', { type: 'computeLandscape', optima: [0, 1], secondAxis: { run: '/etc', phase: 1 } }, 'computeLandscape:second-axis'],
  ['computeLandscape axis phase and a run', { type: 'computeLandscape', optima: [0, 1], secondAxis: { phase: 2, run: '/etc' } }, 'computeLandscape:second-axis'],
  ['computeLandscape axis phase a string', { type: 'computeLandscape', optima: [0, 1], secondAxis: { phase: '2' } }, 'computeLandscape:second-axis'],
  ['computeLandscape axis phase negative', { type: 'computeLandscape', optima: [0, 1], secondAxis: { phase: -2 } }, 'computeLandscape:second-axis'],
  ['computeLandscape axis an array', { type: 'computeLandscape', optima: [0, 1], secondAxis: [2] }, 'computeLandscape:second-axis'],
  ['computeLandscape with a run folder', { type: 'computeLandscape', optima: [0, 1], secondAxis: 'random', runDir: '/etc' }, 'computeLandscape:unexpected-field'],
  ['computeLandscape with a grid', { type: 'computeLandscape', optima: [0, 1], secondAxis: 'random', grid: 1001 }, 'computeLandscape:unexpected-field'],
  ['cancelLandscape with a field', { type: 'cancelLandscape', pid: 1 }, 'cancelLandscape:unexpected-field'],
  ['showLandscape file a number', { type: 'showLandscape', file: 1 }, 'showLandscape:file'],
  ['showLandscape file null', { type: 'showLandscape', file: null }, 'showLandscape:file'],
  ['showLandscape result.json', { type: 'showLandscape', file: 'result.json' }, 'showLandscape:file'],
  ['showLandscape a relative path', { type: 'showLandscape', file: '../other/landscape-0-1-pca.json' }, 'showLandscape:file'],
  ['showLandscape an absolute path', { type: 'showLandscape', file: '/etc/landscape-0-1-pca.json' }, 'showLandscape:file'],
  ['showLandscape a path into a subfolder', { type: 'showLandscape', file: 'landscape-0-1/x.json' }, 'showLandscape:file'],
  ['showLandscape a backslash path', { type: 'showLandscape', file: 'landscape-0-1\\..\\x.json' }, 'showLandscape:file'],
  ['showLandscape only dots', { type: 'showLandscape', file: 'landscape-..json' }, 'showLandscape:file'],
  ['showLandscape not JSON', { type: 'showLandscape', file: 'landscape-0-1-pca.json.bak' }, 'showLandscape:file'],
  ['showLandscape with NUL', { type: 'showLandscape', file: 'landscape-0\u0000.json' }, 'showLandscape:file'],
  ['showLandscape with a newline', { type: 'showLandscape', file: 'landscape-0-1-pca.json\n' }, 'showLandscape:file'],
  ['showLandscape a long name', { type: 'showLandscape', file: `landscape-${'a'.repeat(300)}.json` }, 'showLandscape:file'],
  ['showLandscape weights', { type: 'showLandscape', file: 'weights.bin' }, 'showLandscape:file'],
  ['showLandscape with a folder', { type: 'showLandscape', file: 'landscape-0-1-pca.json', dir: '/etc' }, 'showLandscape:unexpected-field'],
];

describe('validateFromWebviewMessage', () => {
  test('accepts every message the webview sends, unchanged', () => {
    for (const m of VALID) {
      const r = validateFromWebviewMessage(m);
      assert.ok(r.ok, `${JSON.stringify(m).slice(0, 80)} rejected: ${r.ok ? '' : r.reason}`);
      assert.deepEqual(r.message, m);
      assert.notEqual(r.message, m, 'a fresh object, not the one the webview sent');
    }
  });

  test(`drops each of ${MALFORMED.length} malformed messages, with a reason and a fixed kind`, () => {
    for (const [what, m, kind] of MALFORMED) {
      const t0 = performance.now();
      const r = validateFromWebviewMessage(m);
      const ms = performance.now() - t0;
      assert.equal(r.ok, false, `${what}: accepted`);
      if (r.ok) continue;
      assert.equal(r.kind, kind, `${what}: kind`);
      assert.ok(r.reason.length > 0 && r.reason.length < 300, `${what}: a short reason (${r.reason.length} chars)`);
      assert.equal(parseFromWebviewMessage(m), null, `${what}: parseFromWebviewMessage`);
      // Size checks come before any scan of the content.
      assert.ok(ms < 2_000, `${what}: decided in ${ms.toFixed(0)} ms`);
    }
    console.log(`malformed webview messages tested: ${MALFORMED.length}`);
  });

  test('a dropped message pollutes nothing', () => {
    const polluted = JSON.parse('{"type":"ready","__proto__":{"polluted":true}}');
    assert.equal(validateFromWebviewMessage(polluted).ok, false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  test('the kinds never contain text from the message', () => {
    const kinds = new Set(MALFORMED.map(([, m]) => (validateFromWebviewMessage(m) as { kind: string }).kind));
    for (const k of kinds) assert.match(k, /^[a-zA-Z]+(:[a-z-]+)?$|^[a-z-]+$/, k);
    const r = validateFromWebviewMessage({ type: 'x'.repeat(1000) });
    assert.ok(!r.ok && r.reason.length < 100, 'a long type is cut short in the reason');
  });
});

describe('WebviewMessageGate (the host drops and logs)', () => {
  test('passes valid messages without logging', () => {
    const log: string[] = [];
    const gate = new WebviewMessageGate((l) => log.push(l));
    for (const m of VALID) assert.deepEqual(gate.accept(m), m);
    assert.deepEqual(log, []);
    assert.equal(gate.dropped.size, 0);
  });

  test('drops every malformed message and logs each kind once, not once per message', () => {
    const log: string[] = [];
    const gate = new WebviewMessageGate((l) => log.push(l));
    // Three rounds of the whole table: nothing passes, the log grows only with new kinds.
    for (let round = 0; round < 3; round++) for (const [what, m] of MALFORMED) assert.equal(gate.accept(m), null, what);
    const kinds = new Set(MALFORMED.map(([, , k]) => k));
    assert.equal(gate.dropped.size, kinds.size);
    const perKind = new Map<string, number>();
    for (const [, , k] of MALFORMED) perKind.set(k, (perKind.get(k) ?? 0) + 3);
    assert.deepEqual(new Map(gate.dropped), perKind);
    const firstLines = log.filter((l) => l.startsWith('dropped a malformed message'));
    assert.equal(firstLines.length, kinds.size, 'one line per kind');
    for (const k of kinds) assert.equal(firstLines.filter((l) => l.includes(`(${k})`)).length, 1, `kind ${k} logged once`);
    assert.ok(log.every((l) => l.length < 400), 'no line carries the payload');
  });

  test('a flood of 100,000 bad messages logs a handful of lines', () => {
    const log: string[] = [];
    const gate = new WebviewMessageGate((l) => log.push(l));
    for (let i = 0; i < 100_000; i++) gate.accept({ type: 'nope' });
    assert.equal(gate.dropped.get('unknown-type'), 100_000);
    // The first, then at 10, 100, 1000, 10000, 100000.
    assert.equal(log.length, 6, log.join('\n'));
    assert.match(log[0], /^dropped a malformed message from the webview \(unknown-type\): unknown type "nope"/);
    assert.equal(log[5], 'dropped 100000 malformed messages of kind unknown-type from the webview so far');
  });
});

describe('CSP violation messages', () => {
  test('built from an event, cut to the limits, accepted by the host', () => {
    const m = cspViolationMessage({
      effectiveDirective: 'style-src-attr',
      violatedDirective: 'style-src',
      blockedURI: `https://example.com/${'a'.repeat(5000)}`,
      sourceFile: 'https://x.vscode-cdn.net/dist/webview.js',
      lineNumber: 3,
      columnNumber: -1,
      sample: 'c'.repeat(1000),
    });
    assert.equal(m.directive, 'style-src-attr');
    assert.equal(m.blockedURI.length, CSP_LIMITS.blockedURI);
    assert.equal(m.sample!.length, CSP_LIMITS.sample);
    assert.equal(m.line, 3);
    assert.equal(m.column, undefined, 'a negative column is left out');
    assert.deepEqual(parseFromWebviewMessage(JSON.parse(JSON.stringify(m))), m);
  });

  test('an event without fields still makes a valid message', () => {
    const m = cspViolationMessage({});
    assert.deepEqual(m, { type: 'cspViolation', directive: 'unknown', blockedURI: '' });
    assert.ok(parseFromWebviewMessage(m));
  });

  test('described in one line', () => {
    assert.equal(
      describeCspViolation({ type: 'cspViolation', directive: 'style-src-attr', blockedURI: 'inline', sourceFile: 'webview.js', line: 12, column: 5, sample: 'color: red' }),
      'style-src-attr blocked inline at webview.js:12:5 (sample: "color: red")',
    );
    assert.equal(describeCspViolation({ type: 'cspViolation', directive: 'img-src', blockedURI: '' }), 'img-src blocked inline');
  });
});
