// The registry of cards: a layout is the list of its cards, in order. Adding a card is one file
// and one line here.
import type { CompareSubject } from '../compare/subject';
import type { CardDefinition } from './types';
import { matricesCard } from './compare/matrices';
import { differenceCard } from './compare/difference';
import { curvesCard } from './compare/curves';
import { metricsTableCard } from './compare/metrics';
import { sweepCard } from './compare/sweep';
import type { RunSubject } from './run/subject';
import { runMatrixCard } from './run/matrix';
import { runMetricsCard } from './run/metrics';
import { runCurvesCard } from './run/curves';
import { runLandscapeCard } from './run/landscape';
import { runLogsCard } from './run/logs';

/** The single-run layout: one run, live or saved. */
export const RUN_CARDS: readonly CardDefinition<RunSubject>[] = [runMatrixCard, runMetricsCard, runCurvesCard, runLandscapeCard, runLogsCard];

/** The compare layout: several runs or groups of seeds. */
export const COMPARE_CARDS: readonly CardDefinition<CompareSubject>[] = [metricsTableCard, matricesCard, differenceCard, curvesCard, sweepCard];
