import { t } from '../i18n';
import type { Quality } from '../protocol';
import { Video } from './media';
import { HandIcon, MicIcon, SignalIcon } from './icons';
import type { ShownReaction } from './Reactions';

export interface TileModel {
  id: string;
  name: string;
  self: boolean;
  camera?: MediaStreamTrack;
  micMuted: boolean;
  speaking: boolean;
  active: boolean;
  quality?: Quality;
  hand?: number; // the place of their raised hand
  reactions?: ShownReaction[]; // sent in the last few seconds
}

const qualityBars = { good: 3, fair: 2, poor: 1 } as const;

export function initials(name: string): string {
  return name
    .replace(/\(.*\)/, '')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
}

export function Avatar({ name }: { name: string }) {
  return (
    <div class="avatar" aria-label={t('meeting.cameraOff')} role="img">
      <span aria-hidden="true">{initials(name)}</span>
    </div>
  );
}

export function Tile({ tile }: { tile: TileModel }) {
  const classes = ['tile', tile.speaking ? 'speaking' : '', tile.active ? 'active' : ''].join(' ');
  return (
    <li class={classes} data-participant={tile.id} data-self={tile.self ? 'true' : undefined} aria-label={tile.name}>
      {tile.camera ? (
        <Video track={tile.camera} mirrored={tile.self} label={tile.name} of={tile.self ? undefined : { participant: tile.id, source: 'camera' }} />
      ) : (
        <Avatar name={tile.name} />
      )}
      {tile.reactions && tile.reactions.length > 0 && (
        // Decoration: screen readers are told of reactions in words.
        <div class="reactions" aria-hidden="true">
          {tile.reactions.map((r) => (
            <span key={r.seq} class="reaction" data-emoji={r.emoji} style={{ '--lane': String(r.seq % 4) }}>
              {r.emoji}
            </span>
          ))}
        </div>
      )}
      <div class="tile-name">
        {tile.micMuted && (
          <span class="muted-icon" role="img" aria-label={t('meeting.muted')}>
            <MicIcon off />
          </span>
        )}
        {tile.hand && (
          <span class="hand" role="img" aria-label={t('people.hand', { rank: String(tile.hand) })} title={t('people.hand', { rank: String(tile.hand) })}>
            <HandIcon size={16} />
            {tile.hand}
          </span>
        )}
        <span>{tile.name}</span>
        {tile.speaking && <span class="sr-only">, {t('meeting.speaking')}</span>}
        {tile.quality && (
          <span class={`quality ${tile.quality}`} role="img" aria-label={t(`quality.${tile.quality}`)} title={t(`quality.${tile.quality}`)}>
            <SignalIcon bars={qualityBars[tile.quality]} />
          </span>
        )}
      </div>
    </li>
  );
}
