// The card interface: a card is one file that knows what it shows for a subject (one run, or a
// comparison of runs) and draws it into its section; a layout is a list of card definitions (the
// registry), so the single-run panel and the compare panel are two layouts of cards.
import type { FigureExporter } from '../exporting';
import type { Palette } from '../theme';
import type { Tooltip } from '../charts/axes';

/** What a card gets at each render. */
export interface CardContext<S> {
  doc: Document;
  subject: S;
  palette: Palette;
  /** The width of the content area (a card spans it). */
  width: number;
  figures: FigureExporter;
  /** Bumped when the theme changes: a card that caches what it drew redraws. */
  epoch: number;
  /** Changes the subject (a switch, a sort) and re-renders every card. */
  change(next: S): void;
}

/** A card that remembers what it last drew by a key of its inputs (the fold mutates state in place). */
export function changeKeys(): (name: string, key: string) => boolean {
  let keys: Record<string, string> = {};
  const changed = (name: string, key: string) => {
    if (keys[name] === key) return false;
    keys[name] = key;
    return true;
  };
  changed.reset = () => (keys = {});
  return changed;
}

export interface CardInstance<S> {
  /** The card's section (placed by the layout). */
  el: HTMLElement;
  render(ctx: CardContext<S>): void;
  dispose?(): void;
}

export interface CardDefinition<S> {
  id: string;
  /** Whether the card has anything to show for this subject (otherwise it is left out). */
  applies(subject: S): boolean;
  create(doc: Document): CardInstance<S>;
}

export type { Tooltip };
