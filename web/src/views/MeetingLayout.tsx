import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { gridFit, pageSize, paginate, type Layout } from '../layout';
import { Video } from './media';
import { Pager } from './LayoutDialog';
import { Avatar, Tile, type TileModel } from './Tile';

// Why the stage shows what it shows: it names the stage for screen readers.
type StageReason = 'pinnedByYou' | 'pinnedForAll' | 'screen' | 'speaker';

// chooseStage picks what is shown large: this participant's own pin first,
// then a host's pin for everyone, then a screen share (not in the grid
// layout, where shares are tiles), then, in the speaker layout, whoever
// speaks.
export function chooseStage(
  items: TileModel[],
  { layout, localPin, hostPin, speaker }: { layout: Layout; localPin: string | null; hostPin?: string; speaker?: string },
): { tile: TileModel; reason: StageReason } | undefined {
  const find = (key: string | undefined) => (key ? items.find((i) => i.key === key) : undefined);
  const pinned = find(localPin ?? undefined);
  if (pinned) return { tile: pinned, reason: 'pinnedByYou' };
  // A host pins a person: their screen share if they have one.
  const forAll = hostPin ? (find(`${hostPin}/screen`) ?? find(hostPin)) : undefined;
  if (forAll) return { tile: forAll, reason: 'pinnedForAll' };
  const screen = items.find((i) => i.source === 'screen');
  if (screen && layout !== 'grid') return { tile: screen, reason: 'screen' };
  const speaking = layout === 'speaker' ? (find(speaker) ?? items.find((i) => !i.self && i.source === 'camera')) : undefined;
  if (speaking) return { tile: speaking, reason: 'speaker' };
  return undefined;
}

const stageLabelKey = {
  pinnedByYou: 'layout.pinnedByYou',
  pinnedForAll: 'meeting.pinnedOf',
  screen: 'meeting.screenOf',
  speaker: 'layout.speakerOf',
} as const;

// useSize follows an element's size in CSS pixels.
function useSize<T extends HTMLElement>(): [RefObject<T | null>, { width: number; height: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, size];
}

// narrowScreens matches the style sheet's breakpoint, where the filmstrip
// becomes a row under the stage.
const narrowScreens = '(max-width: 48rem)';

// MeetingLayout shows the stage, if anything is shown large, and the tiles
// in pages (a grid, or a filmstrip beside the stage). Tiles on other pages
// are not rendered at all, so their videos are neither shown nor received.
export function MeetingLayout({
  items,
  stage,
  onPin,
  layoutKey,
}: {
  items: TileModel[]; // everyone's camera tiles and the screen shares, in order
  stage?: { tile: TileModel; reason: StageReason };
  onPin: (key: string | null) => void;
  layoutKey: string; // changes when the user picks another layout: back to page 1
}) {
  const [listRef, size] = useSize<HTMLUListElement>();
  const [page, setPage] = useState(0);
  useEffect(() => setPage(0), [layoutKey]);
  // A screen share on the stage is not repeated in the filmstrip.
  const tiles = stage?.tile.source === 'screen' ? items.filter((i) => i.key !== stage.tile.key) : items;
  const strip = stage ? (matchMedia(narrowScreens).matches ? 'row' : 'column') : null;
  const cut = paginate(tiles, pageSize(size.width, size.height, strip), page);
  const cols = strip === 'row' ? cut.shown.length : strip ? 1 : gridFit(cut.shown.length, size.width, size.height);
  const label = stage && t(stageLabelKey[stage.reason], { name: stage.tile.name });
  return (
    <>
      {stage && (
        <section class="stage" aria-label={label} data-stage={stage.tile.key} data-pinned={stage.reason === 'pinnedForAll' ? stage.tile.id : undefined}>
          {stage.tile.video ? (
            <Video
              track={stage.tile.video}
              label={label!}
              class={stage.tile.source}
              mirrored={stage.tile.self && stage.tile.source === 'camera'}
              of={stage.tile.self ? undefined : { participant: stage.tile.id, source: stage.tile.source }}
            />
          ) : (
            <Avatar name={stage.tile.name} hidden={stage.tile.videoHidden} />
          )}
          <div class="tile-name stage-caption" aria-hidden="true">
            {label}
          </div>
          {stage.reason === 'pinnedByYou' && (
            <button type="button" class="small unpin" onClick={() => onPin(null)}>
              {t('layout.unpin', { name: stage.tile.name })}
            </button>
          )}
        </section>
      )}
      <div class={`tiles ${strip ? `filmstrip ${strip}` : ''}`}>
        <ul class="grid" ref={listRef} style={{ '--cols': String(Math.max(1, cols)) }} aria-label={t('pages.tiles')}>
          {cut.shown.map((tile) => (
            <Tile key={tile.key} tile={tile} onPin={onPin} />
          ))}
        </ul>
        <Pager page={cut.page} pages={cut.pages} onPage={setPage} />
      </div>
    </>
  );
}
