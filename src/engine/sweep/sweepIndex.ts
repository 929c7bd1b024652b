// sweep.json checked as an index: a module of its own (protocol types only), so the Runs view can
// read sweeps at activation without loading the experiment validator that folder.ts needs.
import { isAbsolute } from 'node:path';
import { SWEEP_FORMAT_VERSION, type SweepIndex } from '../../protocol/sweep';

/** sweep.json's text as an index, checked (throws saying what is wrong, naming `file`). */
export function parseSweepIndexText(text: string, file: string): SweepIndex {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const index = v as Partial<SweepIndex> | null;
  const bad = (what: string) => new Error(`${file} is not a sweep index: ${what}`);
  if (!index || typeof index !== 'object' || index.kind !== 'sweep') throw bad(`its "kind" is not "sweep"`);
  if (typeof index.formatVersion !== 'number') throw bad('it has no formatVersion');
  if (index.formatVersion > SWEEP_FORMAT_VERSION) {
    throw new Error(`${file} has format ${index.formatVersion}, newer than this version reads (${SWEEP_FORMAT_VERSION}): update continual-workbench`);
  }
  if (!Array.isArray(index.runs)) throw bad('it has no "runs" list');
  for (const [i, r] of index.runs.entries()) {
    if (!r || typeof r !== 'object' || typeof r.folder !== 'string' || typeof r.index !== 'number') throw bad(`runs[${i}] has no folder or index`);
    // A folder outside the sweep folder is refused: the index is data, not a list of places to write.
    if (isAbsolute(r.folder) || r.folder.split(/[\\/]/).includes('..')) throw bad(`runs[${i}].folder ${JSON.stringify(r.folder)} is outside the sweep folder`);
  }
  if (!Array.isArray(index.axes)) throw bad('it has no "axes" list');
  if (typeof index.name !== 'string' || !index.executor || typeof index.executor !== 'object') throw bad('it has no name or executor');
  return index as SweepIndex;
}
