// Cancellation shared by every long engine job (training, landscape, paths, Bézier training): an
// AbortError the callers recognise by name, and a turn of the event loop so a cancel message can
// arrive between units of work.

/** An Error named AbortError ("landscape cancelled", "run cancelled"). */
export function abortError(what = 'run'): Error {
  const e = new Error(`${what} cancelled`);
  e.name = 'AbortError';
  return e;
}

export function throwIfAborted(signal: AbortSignal | undefined, what = 'run'): void {
  if (signal?.aborted) throw abortError(what);
}

/** One turn of the event loop (setImmediate): lets IPC messages such as a cancel in. */
export const yieldToLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
