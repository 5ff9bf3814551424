import { t } from '../i18n';
import type { Quality } from '../protocol';
import { Video } from './media';
import { HandIcon, MicIcon, PinIcon, SignalIcon } from './icons';
import type { ShownReaction } from './Reactions';

export interface TileModel {
  key: string; // the participant's id, and /screen for their screen share
  id: string; // the participant's
  name: string;
  self: boolean;
  source: 'camera' | 'screen';
  video?: MediaStreamTrack;
  videoHidden?: boolean; // there is a video, not received to save bandwidth
  pinned?: boolean; // shown large by this participant's own choice
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

export function Avatar({ name, hidden }: { name: string; hidden?: boolean }) {
  return (
    <div class="avatar" aria-label={t(hidden ? 'reception.hidden' : 'meeting.cameraOff')} title={hidden ? t('reception.hidden') : undefined} role="img">
      <span aria-hidden="true">{initials(name)}</span>
    </div>
  );
}

// Tile is one person's camera (or avatar), or a screen share, in the grid
// or the filmstrip; onPin shows it large for this participant only.
export function Tile({ tile, onPin }: { tile: TileModel; onPin: (key: string | null) => void }) {
  const classes = ['tile', tile.source === 'screen' ? 'screen' : '', tile.speaking ? 'speaking' : '', tile.active ? 'active' : ''].join(' ');
  const pinLabel = t(tile.pinned ? 'layout.unpin' : 'layout.pin', { name: tile.name });
  return (
    <li class={classes} data-participant={tile.id} data-source={tile.source} data-self={tile.self ? 'true' : undefined} aria-label={tile.name}>
      {tile.video ? (
        <Video track={tile.video} mirrored={tile.self && tile.source === 'camera'} label={tile.name} class={tile.source === 'screen' ? 'screen' : undefined} of={tile.self ? undefined : { participant: tile.id, source: tile.source }} />
      ) : (
        <Avatar name={tile.name} hidden={tile.videoHidden} />
      )}
      <button type="button" class={`pin ${tile.pinned ? 'active' : ''}`} aria-pressed={!!tile.pinned} aria-label={pinLabel} title={pinLabel} onClick={() => onPin(tile.pinned ? null : tile.key)}>
        <PinIcon />
      </button>
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
