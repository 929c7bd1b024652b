// Where a finding is: the text's lines and columns, JSON pointers, and the nodes of the syntax tree
// (jsonc-parser) that a pointer names.
import type { Node } from 'jsonc-parser';

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
   * Which check found it: 'syntax' (JSON itself: parse errors, duplicate keys, which VS Code's JSON
   * service also reports, so the editor leaves them to it), 'schema', 'semantic'.
   */
  origin: 'syntax' | 'schema' | 'semantic';
}

export interface Range {
  offset: number;
  length: number;
}

/** A problem before it has a line and column. */
export interface Finding {
  severity: 'error' | 'warning';
  message: string;
  pointer: string;
  /** Where the diagnostic points. */
  range: Range;
  /** The whole value the finding is about (a syntax error inside it makes the finding moot). */
  subject: Range;
  origin?: ExperimentDiagnostic['origin'];
}

export class SourceText {
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
export function overlaps(value: Range, error: Range): boolean {
  return error.offset < value.offset + value.length && value.offset < error.offset + Math.max(error.length, 1);
}

export function rangeOf(node: Node): Range {
  return { offset: node.offset, length: node.length };
}

// ---------------------------------------------------------------------------------------------
// JSON pointers

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function toPointer(segments: (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function childPointer(pointer: string, key: string | number): string {
  return pointer + toPointer([key]);
}

export function underPointer(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + '/');
}

/** "/tasks/1/dataset" -> "tasks[1].dataset"; "" -> "the experiment". */
export function fieldName(pointer: string): string {
  let out = '';
  for (const s of pointerSegments(pointer)) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out || 'the experiment';
}

// ---------------------------------------------------------------------------------------------
// The syntax tree

/** The parsed file the checks report against. */
export interface Context {
  doc: SourceText;
  root: Node;
}

export interface Located {
  /** The value at the pointer (absent when the path does not exist). */
  value?: Node;
  /** The property node holding it, when its parent is an object. */
  property?: Node;
  /** The deepest value that exists along the path. */
  nearest: Node;
}

// Each object's properties by key, built once: the checks locate one pointer per finding, and a
// file with 100,000 keys would otherwise cost 100,000 scans of them.
const propertyIndex = new WeakMap<Node, Map<string, Node>>();

function propertiesOf(object: Node): Map<string, Node> {
  let index = propertyIndex.get(object);
  if (!index) {
    index = new Map();
    for (const p of object.children ?? []) {
      const key = p.children?.[0]?.value;
      if (typeof key === 'string') index.set(key, p); // the last of duplicates wins
    }
    propertyIndex.set(object, index);
  }
  return index;
}

/** Follows a pointer through the tree; of duplicate keys the last one counts (as in the parsed value). */
export function locate(root: Node, pointer: string): Located {
  let node: Node = root;
  let property: Node | undefined;
  for (const segment of pointerSegments(pointer)) {
    let next: Node | undefined;
    property = undefined;
    if (node.type === 'object') {
      property = propertiesOf(node).get(segment);
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
export function atValue(ctx: Context, pointer: string, severity: Finding['severity'], message: string): Finding {
  const at = locate(ctx.root, pointer);
  const node = at.value ?? at.nearest;
  let range = rangeOf(node);
  if ((node.type === 'object' || node.type === 'array') && ctx.doc.spansLines(range)) {
    range = at.property?.children?.[0] ? rangeOf(at.property.children[0]) : { offset: node.offset, length: 1 };
  }
  return { severity, message, pointer, range, subject: rangeOf(at.property ?? node) };
}

/** A finding about an object key (an unknown or duplicate property). */
export function atKey(property: Node, pointer: string, severity: Finding['severity'], message: string): Finding {
  const key = property.children?.[0] ?? property;
  return { severity, message, pointer, range: rangeOf(key), subject: rangeOf(property) };
}

/** A finding at the key of the property `pointer` names (at the value when it has no key). */
export function atPropertyKey(ctx: Context, pointer: string, severity: Finding['severity'], message: string): Finding {
  const at = locate(ctx.root, pointer);
  return at.property ? atKey(at.property, pointer, severity, message) : atValue(ctx, pointer, severity, message);
}

/** A finding about an object as a whole, at its key (or its opening brace), not over the whole, possibly long, object. */
export function atObject(ctx: Context, pointer: string, severity: Finding['severity'], message: string): Finding {
  const finding = atValue(ctx, pointer, severity, message);
  const at = locate(ctx.root, pointer);
  if (at.value && (at.value.type === 'object' || at.value.type === 'array')) {
    finding.range = at.property?.children?.[0] ? rangeOf(at.property.children[0]) : { offset: at.value.offset, length: 1 };
  }
  return finding;
}
