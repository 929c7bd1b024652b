// Which task `path`s of an experiment file lead outside the workspace and the configured data
// directories. In Restricted Mode the extension makes these errors, so that a file in an untrusted
// folder cannot point the engine at /etc or ~/.ssh (extension/diagnostics.ts); the engine resolves
// a relative path against the experiment file's folder (normalise.ts), and so does this.
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { parseTree, type Node } from 'jsonc-parser';
import { SourceText, fieldName, rangeOf, type ExperimentDiagnostic } from './source';
import { nestingFinding } from './syntax';

export interface DataRoots {
  /** Folders of the workspace. */
  workspaceFolders: readonly string[];
  /** The configured data directories (the dataDir setting, CLW_DATA_DIR). */
  dataDirs: readonly string[];
}

export interface DataPathOptions {
  /** The real path of an existing file or folder, null when it does not exist; default fs.realpathSync.native. For tests. */
  realpath?: (p: string) => string | null;
}

function defaultRealpath(p: string): string | null {
  try {
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

/**
 * Where an absolute path really is: symbolic links followed as far as the path exists (the
 * deepest existing ancestor's real path, plus the rest, which `..` cannot climb out of: resolve
 * already removed every `..`).
 */
export function realLocation(abs: string, realpath: (p: string) => string | null = defaultRealpath): string {
  let head = path.resolve(abs);
  const rest: string[] = [];
  for (;;) {
    const real = realpath(head);
    if (real !== null) return rest.length ? path.join(real, ...rest.reverse()) : real;
    const parent = path.dirname(head);
    if (parent === head) return path.resolve(abs);
    rest.push(path.basename(head));
    head = parent;
  }
}

/** Whether `target` is `root` or inside it (both absolute and real). */
export function isInside(target: string, root: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** The string value of an object's property (the last one, as the parsed value has it). */
function property(node: Node | undefined, key: string): Node | undefined {
  if (node?.type !== 'object') return undefined;
  let found: Node | undefined;
  for (const p of node.children ?? []) if (p.children?.[0]?.value === key) found = p.children?.[1];
  return found;
}

/**
 * An error for each task `path` of the file's text that resolves outside every workspace folder
 * and configured data directory, at the path's string. Malformed files give none (the validator
 * reports them).
 */
export function dataPathDiagnostics(text: string, file: string, roots: DataRoots, opts: DataPathOptions = {}): ExperimentDiagnostic[] {
  const realpath = opts.realpath ?? defaultRealpath;
  const doc = new SourceText(text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text);
  if (nestingFinding(doc)) return [];
  const root = parseTree(doc.text, [], { allowTrailingComma: false, disallowComments: true });
  const tasks = property(root, 'tasks');
  if (tasks?.type !== 'array') return [];
  const base = roots.workspaceFolders[0] ?? path.dirname(file);
  const allowed = [...roots.workspaceFolders, ...roots.dataDirs].filter((r) => r.trim() !== '').map((r) => realLocation(path.resolve(base, r), realpath));
  const folder = path.dirname(path.resolve(file));
  const diagnostics: ExperimentDiagnostic[] = [];
  (tasks.children ?? []).forEach((task, i) => {
    const node = property(task, 'path');
    if (node?.type !== 'string' || typeof node.value !== 'string' || node.value === '') return;
    const given = node.value;
    const resolved = path.resolve(folder, given);
    const real = realLocation(resolved, realpath);
    if (allowed.some((r) => isInside(real, r))) return;
    const where = real === resolved ? real : `${resolved}, through symbolic links ${real}`;
    const message = `${fieldName(`/tasks/${i}/path`)} ${JSON.stringify(given)} is ${where}, which is outside the workspace and the configured data directories; in Restricted Mode data paths must stay inside them`;
    const range = rangeOf(node);
    diagnostics.push(doc.diagnostic(file, { severity: 'error', message, pointer: `/tasks/${i}/path`, range, subject: range, origin: 'semantic' }));
  });
  return diagnostics;
}
