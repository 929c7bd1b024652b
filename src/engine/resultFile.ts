// Recognises a run's result.json, in one place for every reader: the result editor, the panel
// serializer, the Runs view, the host's outcome check, sweeps and comparisons. Each must say
// clearly when a file is not a result. Pure but for readRunResultFile.
import { readFileSync } from 'node:fs';
import type { RunResult, RunStatus } from '../protocol/result';
import { RESULT_FORMAT_VERSION, upgradeResult } from '../protocol/result';

export type ParsedResult = { ok: true; result: RunResult } | { ok: false; error: string };

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'cancelled', 'failed'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseRunResult(text: string): ParsedResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `This file is not valid JSON (${(e as Error).message}).` };
  }
  if (!isObject(data)) return { ok: false, error: 'This file is not a Continual Workbench result: it is not a JSON object.' };
  const missing: string[] = [];
  if (typeof data.formatVersion !== 'number') missing.push('formatVersion');
  if (typeof data.runId !== 'string') missing.push('runId');
  if (!STATUSES.includes(data.status as RunStatus)) missing.push('status');
  if (!isObject(data.experiment) || !Array.isArray(data.experiment.tasks)) missing.push('experiment');
  for (const key of ['tasks', 'accuracyMatrix', 'lossMatrix', 'curves'] as const) if (!Array.isArray(data[key])) missing.push(key);
  if (!isObject(data.metrics)) missing.push('metrics');
  if (!isObject(data.timing)) missing.push('timing');
  if (missing.length) {
    return { ok: false, error: `This file is not a Continual Workbench result: missing or malformed ${missing.join(', ')}.` };
  }
  if ((data.formatVersion as number) > RESULT_FORMAT_VERSION) {
    return { ok: false, error: `This result has format version ${data.formatVersion}; this version of the extension reads up to ${RESULT_FORMAT_VERSION}. Update the extension.` };
  }
  return { ok: true, result: upgradeResult(data as unknown as RunResult) };
}

/** A result file read and recognised; why not (its error, and whether the file is simply not there yet). */
export function readRunResultFile(file: string): ParsedResult | { ok: false; error: string; missing: true } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { ok: false, error: 'no such file', missing: true } : { ok: false, error: `cannot read: ${(e as Error).message}` };
  }
  return parseRunResult(text);
}
