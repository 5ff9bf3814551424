import { useEffect, useRef, useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { capture, captureScreen } from '../media';
import type { Participant, Quality } from '../protocol';
import type { MeetingSession, RemoteMedia } from '../session';
import { Audio, Video, useViewReport } from './media';
import { CameraIcon, LeaveIcon, MicIcon, ScreenIcon, SignalIcon } from './icons';

interface TileModel {
  id: string;
  name: string;
  self: boolean;
  camera?: MediaStreamTrack;
  micMuted: boolean;
  speaking: boolean;
  active: boolean;
  quality?: Quality;
}

interface ScreenModel {
  id: string;
  name: string;
  track: MediaStreamTrack;
}

function published(p: Participant, source: 'microphone' | 'camera' | 'screen') {
  return p.tracks.find((tr) => tr.source === source);
}

const connectionKey: Record<string, MessageKey> = {
  connecting: 'connection.connecting',
  connected: 'connection.connected',
  reconnecting: 'connection.reconnecting',
  failed: 'connection.failed',
};

export function Meeting({ code, session }: { code: string; session: MeetingSession }) {
  const s = session.state;
  const [announcement, setAnnouncement] = useState('');
  const [toast, setToast] = useState<MessageKey | null>(null);
  const [copied, setCopied] = useState(false);
  const known = useRef(new Map<string, string>(s.others.map((p) => [p.id, p.name])));
  const body = useViewReport(session);

  // Screen readers hear who joins and leaves.
  useEffect(() => {
    const now = new Map(s.others.map((p) => [p.id, p.name]));
    for (const [id, name] of now) if (!known.current.has(id)) setAnnouncement(t('meeting.joined', { name }));
    for (const [id, name] of known.current) if (!now.has(id)) setAnnouncement(t('meeting.left', { name }));
    known.current = now;
  }, [s.others]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(timer);
  }, [toast]);

  const self = s.self;
  const tiles: TileModel[] = [];
  const screens: ScreenModel[] = [];
  if (self) {
    tiles.push({
      id: self.id,
      name: `${self.name} (${t('meeting.you')})`,
      self: true,
      camera: s.local.camera,
      micMuted: s.micMuted || !s.local.microphone,
      speaking: s.speakers.speaking.includes(self.id),
      active: false,
      quality: s.quality[self.id],
    });
    if (s.local.screen) screens.push({ id: self.id, name: self.name, track: s.local.screen });
  }
  for (const p of s.others) {
    const media: RemoteMedia = s.media.get(p.id) ?? {};
    const cam = published(p, 'camera');
    const mic = published(p, 'microphone');
    tiles.push({
      id: p.id,
      name: p.name,
      self: false,
      camera: cam && !cam.muted ? media.camera : undefined,
      micMuted: !mic || mic.muted,
      speaking: s.speakers.speaking.includes(p.id),
      active: s.speakers.active === p.id && s.others.length > 1,
      quality: s.quality[p.id],
    });
    if (published(p, 'screen') && media.screen) screens.push({ id: p.id, name: p.name, track: media.screen });
  }

  const toggleCamera = async () => {
    if (s.cameraOn) {
      await session.setCamera(null);
      return;
    }
    const c = await capture({ audio: false, video: true });
    const track = c.stream.getVideoTracks()[0];
    if (!track) {
      setToast('meeting.cameraFailed');
      return;
    }
    await session.setCamera(track);
  };

  const toggleScreen = async () => {
    if (s.sharing) {
      await session.stopScreen();
      return;
    }
    try {
      await session.startScreen(await captureScreen());
    } catch (err) {
      // Closing the browser's picker is a choice, not a failure.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) setToast('meeting.shareFailed');
    }
  };

  const count = s.others.length + 1;
  const stage = screens[0];
  return (
    <div class={`meeting ${stage ? 'with-stage' : ''}`}>
      <header class="meeting-header">
        <h1>{t('meeting.title', { code })}</h1>
        <span class="count">{count === 1 ? t('meeting.participant') : t('meeting.participants', { count })}</span>
        <button
          type="button"
          class="link light"
          onClick={() => void navigator.clipboard?.writeText(location.href).then(() => setCopied(true), () => setCopied(false))}
        >
          {copied ? t('prejoin.linkCopied') : t('prejoin.copyLink')}
        </button>
        <span class={`connection ${s.connection}`} role="status" aria-label={t('connection.label', { state: t(connectionKey[s.connection]) })}>
          {t(connectionKey[s.connection])}
        </span>
      </header>

      <main class="meeting-body" ref={body}>
        {stage && (
          <section class="stage" aria-label={t('meeting.screenOf', { name: stage.name })}>
            <Video
              track={stage.track}
              label={t('meeting.screenOf', { name: stage.name })}
              class="screen"
              of={stage.id === self?.id ? undefined : { participant: stage.id, source: 'screen' }}
            />
          </section>
        )}
        {count === 1 && !stage && <p class="alone">{t('meeting.alone')}</p>}
        <ul class="grid" style={{ '--cols': String(stage ? 1 : Math.ceil(Math.sqrt(tiles.length))) }}>
          {tiles.map((tile) => (
            <Tile key={tile.id} tile={tile} />
          ))}
        </ul>
      </main>

      <footer>
        <div class="controls" role="toolbar" aria-label={t('meeting.controls')}>
          <button
            type="button"
            class={`round ${s.micMuted ? 'off' : ''}`}
            disabled={!s.local.microphone}
            aria-label={s.micMuted ? t('meeting.micOff') : t('meeting.micOn')}
            title={s.micMuted ? t('meeting.micOff') : t('meeting.micOn')}
            onClick={() => session.setMicrophoneMuted(!s.micMuted)}
          >
            <MicIcon off={s.micMuted || !s.local.microphone} />
          </button>
          <button
            type="button"
            class={`round ${s.cameraOn ? '' : 'off'}`}
            aria-label={s.cameraOn ? t('meeting.camOn') : t('meeting.camOff')}
            title={s.cameraOn ? t('meeting.camOn') : t('meeting.camOff')}
            onClick={() => void toggleCamera()}
          >
            <CameraIcon off={!s.cameraOn} />
          </button>
          {navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices && (
            <button
              type="button"
              class={`round ${s.sharing ? 'active' : ''}`}
              aria-label={s.sharing ? t('meeting.shareStop') : t('meeting.shareStart')}
              title={s.sharing ? t('meeting.shareStop') : t('meeting.shareStart')}
              onClick={() => void toggleScreen()}
            >
              <ScreenIcon />
            </button>
          )}
          <button type="button" class="round danger" aria-label={t('meeting.leave')} title={t('meeting.leave')} onClick={() => session.leave()}>
            <LeaveIcon />
          </button>
        </div>
      </footer>

      <div class="sr-only" aria-live="polite">
        {announcement}
      </div>
      {toast && (
        <div class="toast" role="alert">
          {t(toast)}
        </div>
      )}
      <div hidden>
        {s.others.map((p) => {
          const media = s.media.get(p.id) ?? {};
          return (['microphone', 'screen_audio'] as const).map((src) => {
            const track = media[src];
            return track && <Audio key={`${p.id}-${src}`} track={track} participant={p.id} />;
          });
        })}
      </div>
    </div>
  );
}

const qualityBars = { good: 3, fair: 2, poor: 1 } as const;

function initials(name: string): string {
  return name
    .replace(/\(.*\)/, '')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
}

function Tile({ tile }: { tile: TileModel }) {
  const classes = ['tile', tile.speaking ? 'speaking' : '', tile.active ? 'active' : ''].join(' ');
  return (
    <li class={classes} data-participant={tile.id} data-self={tile.self ? 'true' : undefined} aria-label={tile.name}>
      {tile.camera ? (
        <Video track={tile.camera} mirrored={tile.self} label={tile.name} of={tile.self ? undefined : { participant: tile.id, source: 'camera' }} />
      ) : (
        <div class="avatar" aria-label={t('meeting.cameraOff')} role="img">
          <span aria-hidden="true">{initials(tile.name)}</span>
        </div>
      )}
      <div class="tile-name">
        {tile.micMuted && (
          <span class="muted-icon" role="img" aria-label={t('meeting.muted')}>
            <MicIcon off />
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
