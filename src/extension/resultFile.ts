// The result file check lives in the engine (engine/resultFile.ts), shared with the CLI's sweeps and comparisons.
export { parseRunResult, type ParsedResult } from '../engine/resultFile';
