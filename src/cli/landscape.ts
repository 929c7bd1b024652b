// `continual-workbench landscape RUN_DIR --pair 0,2 [--axis pca|random|run:OTHER_RUN_DIR[@PHASE]] [--grid N]`:
// the plane through two phases' optima of a finished run, recomputed from its stored weights
// (engine/landscape/job.ts) and saved beside its result.json; progress on stderr, the file on stdout.
import type { LandscapeAxisChoice } from '../protocol/events';
import type { BackendName } from '../protocol/result';
import { computeLandscapeForRun } from '../engine/landscape/job';

export interface LandscapeCommandOptions {
  pair: string;
  axis?: string;
  grid?: string;
  force?: boolean;
  backend?: BackendName | 'auto';
  dataDir?: string;
  /** Where the text goes (tests); default process.stdout / process.stderr. */
  output?: { stdout(text: string): void; stderr(text: string): void };
}

export const EXIT_LANDSCAPE_USAGE = 2;

/** "pca" | "random" | "run:DIR" | "run:DIR@PHASE" as the job's axis choice; null when it is none of those. */
export function parseAxis(text: string): LandscapeAxisChoice | null {
  if (text === 'pca' || text === 'trajectory-pca') return 'trajectory-pca';
  if (text === 'random') return 'random';
  const m = /^run:(.+?)(?:@(\d+))?$/.exec(text);
  if (!m) return null;
  return m[2] === undefined ? { run: m[1] } : { run: m[1], phase: Number(m[2]) };
}

export async function landscapeCommand(runDir: string, o: LandscapeCommandOptions): Promise<number> {
  const out = o.output ?? { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };
  const pair = /^(\d+),(\d+)$/.exec(o.pair.trim());
  if (!pair) {
    out.stderr(`--pair must be two phase indexes, e.g. 0,2 (got "${o.pair}")\n`);
    return EXIT_LANDSCAPE_USAGE;
  }
  const axis = parseAxis(o.axis ?? 'pca');
  if (!axis) {
    out.stderr(`--axis must be pca, random or run:OTHER_RUN_DIR[@PHASE] (got "${o.axis}")\n`);
    return EXIT_LANDSCAPE_USAGE;
  }
  const grid = o.grid === undefined ? undefined : Number(o.grid);
  if (grid !== undefined && !Number.isInteger(grid)) {
    out.stderr(`--grid must be an integer (got "${o.grid}")\n`);
    return EXIT_LANDSCAPE_USAGE;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const lastTenth = new Map<string, number>();
  let file = '';
  let reopened = false;
  const t0 = performance.now();
  try {
    const land = await computeLandscapeForRun(runDir, {
      optima: [Number(pair[1]), Number(pair[2])],
      secondAxis: axis,
      grid,
      force: o.force,
      backend: o.backend,
      dataDir: o.dataDir ?? process.env.CLW_DATA_DIR,
      signal: controller.signal,
      onLog: (level, message) => out.stderr(`${level === 'warn' ? 'warning: ' : ''}${message}\n`),
      onProgress: (done, total, phase) => {
        const tenth = total ? Math.floor((10 * done) / total) : 0;
        if (lastTenth.get(phase) === tenth) return;
        lastTenth.set(phase, tenth);
        out.stderr(`landscape ${phase} ${done}/${total}\n`);
      },
      onSaved: (saved, again) => {
        file = saved;
        reopened = again;
      },
    });
    const anchors = (land.anchors ?? []).map((a) => `${a.which} ${!a.grid ? 'is not a grid point' : a.grid.loss.every((l, k) => l === a.direct.loss[k]) ? 'matches the grid' : 'differs from the grid'}`).join(', ');
    out.stderr(
      `${reopened ? 'reopened' : `computed in ${((performance.now() - t0) / 1000).toFixed(1)} s (grid and line ${(land.timeMs / 1000).toFixed(1)} s)`}: ` +
        `optima ${land.optima.join(' and ')}, ${land.alphas.length}x${land.betas.length} grid, axis 2 ${land.secondAxis}, |θB − θA| ${land.distance.toPrecision(4)}${anchors ? `; ${anchors}` : ''}\n`,
    );
    out.stdout(`${file}\n`);
    return 0;
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') {
      out.stderr('cancelled: nothing written\n');
      return 130;
    }
    out.stderr(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
