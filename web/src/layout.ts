// How the meeting is laid out, as each participant chooses for themselves:
// the layout, which videos to receive (low-bandwidth modes), and the
// arithmetic of tile pages. Only what is on screen gets video: the app
// reports the videos it shows (useViewReport) and the server pauses the
// others, so a tile on another page or a hidden video costs no bandwidth.

import { safeStorageGet, safeStorageSet } from './i18n';

// Layout: auto puts a screen share or a pinned person large and everyone
// else in a filmstrip, else a grid; grid keeps the grid unless something
// is pinned or shared; speaker always shows the active speaker large.
export type Layout = 'auto' | 'grid' | 'speaker';

// Reception: every video, only the active speaker's (and screen shares), or
// none at all (audio only).
export type Reception = 'all' | 'speaker' | 'audio';

export const layouts: readonly Layout[] = ['auto', 'grid', 'speaker'];
export const receptions: readonly Reception[] = ['all', 'speaker', 'audio'];

const layoutKey = 'visio.layout';
const receptionKey = 'visio.reception';

function saved<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  const v = safeStorageGet(key);
  return allowed.includes(v as T) ? (v as T) : fallback;
}

export const savedLayout = () => saved(layoutKey, layouts, 'auto');
export const saveLayout = (l: Layout) => safeStorageSet(layoutKey, l);
// The reception mode is kept too: someone on a poor link stays on it.
export const savedReception = () => saved(receptionKey, receptions, 'all');
export const saveReception = (r: Reception) => safeStorageSet(receptionKey, r);

// Smallest tile of a grid page, in CSS pixels: below it names and faces are
// hard to make out, so more people means more pages instead.
export const minTileWidth = 200;
const tileGap = 12; // the grid's gap (0.75rem)
const maxPerPage = 25;

// gridFit picks the number of columns that makes n tiles of 16:9 largest in
// a box of width × height.
export function gridFit(n: number, width: number, height: number): number {
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - (cols - 1) * tileGap) / cols, ((height - (rows - 1) * tileGap) / rows) * (16 / 9));
    if (w > bestWidth) {
      best = cols;
      bestWidth = w;
    }
  }
  return best;
}

// pageSize is how many tiles fit a grid of width × height without any going
// below minTileWidth; in a filmstrip (a column beside the stage, or a row
// under it) it is how many tiles of that strip's size fit along it.
export function pageSize(width: number, height: number, filmstrip: 'column' | 'row' | null): number {
  if (width <= 0 || height <= 0) return maxPerPage; // not laid out yet
  const tileHeight = (w: number) => (w * 9) / 16;
  if (filmstrip === 'column') return Math.max(1, Math.floor((height + tileGap) / (tileHeight(width) + tileGap)));
  if (filmstrip === 'row') return Math.max(1, Math.floor((width + tileGap) / (minTileWidth * 0.8 + tileGap)));
  const cols = Math.max(1, Math.floor((width + tileGap) / (minTileWidth + tileGap)));
  const rows = Math.max(1, Math.floor((height + tileGap) / (tileHeight(minTileWidth) + tileGap)));
  return Math.min(maxPerPage, cols * rows);
}

// paginate cuts items into pages of size, keeping page within range (the
// last page when people left); it returns the items shown and the page.
export function paginate<T>(items: readonly T[], size: number, page: number): { shown: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { shown: items.slice(p * size, (p + 1) * size), page: p, pages };
}
