// Names of result folders, shared by the extension (extension/runFolder.ts) and the CLI's sweeps
// (engine/sweep/folder.ts): `<YYYYMMDD-HHMMSS>-<slug of name>`, so folders sort by start time.

/** "MNIST then Fashion-MNIST" -> "mnist-then-fashion-mnist" (ASCII, at most 48 characters). */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'run';
}

/** Local time, so folders sort by start time and match the user's clock. */
export function timestampOf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export function runFolderName(name: string, startedAt: Date, attempt = 1): string {
  const base = `${timestampOf(startedAt)}-${slugOf(name)}`;
  return attempt > 1 ? `${base}-${attempt}` : base;
}
