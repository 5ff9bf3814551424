import { useEffect, useRef, useState } from 'preact/hooks';
import { captionsWanted, setCaptionsWanted } from '../captions';
import { t, type MessageKey } from '../i18n';
import type { Participant } from '../protocol';
import { handRanks, isHost, type MeetingSession, type RemoteMedia } from '../session';
import { Audio, Video, useViewReport } from './media';
import { Captions } from './Captions';
import { ChatAnnouncer, ChatPanel } from './Chat';
import { TranscribingBadge, useSpeechNotices } from './Consent';
import { Controls, type PanelName } from './Controls';
import { LobbyPanel } from './Lobby';
import { ParticipantsPanel } from './Participants';
import { useReactions } from './Reactions';
import { RoomSettings } from './RoomSettings';
import { SpeechPanel } from './SpeechPanel';
import { Avatar, Tile, type TileModel } from './Tile';

// StageModel is what is shown large: a screen share, or the camera of the
// participant a host pinned for everyone.
interface StageModel {
  id: string;
  name: string;
  self: boolean;
  source: 'screen' | 'camera';
  track?: MediaStreamTrack; // none: a pinned participant whose camera is off
}

interface Toast {
  key: MessageKey;
  params?: Record<string, string>;
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
  const [toast, setToast] = useState<Toast | null>(null);
  const [copied, setCopied] = useState(false);
  const [panel, setPanel] = useState<PanelName>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [captionsShown, setCaptionsShown] = useState(captionsWanted);
  const [knockers, setKnockers] = useState<string[]>([]); // shown in the knock banner
  const known = useRef(new Map<string, string>(s.others.map((p) => [p.id, p.name])));
  const raised = useRef(new Set<string>(s.others.filter((p) => p.hand_raised_at).map((p) => p.id)));
  const saving = useRef(false); // the settings dialog sent new rules
  const chatDraft = useRef(''); // what was typed in the chat, kept while it is closed
  const body = useViewReport(session);
  const host = isHost(s.self);

  // Someone let in from the lobby hears that they are in: the page changed
  // under them without their doing.
  useEffect(() => {
    if (!s.admitted) return;
    const timer = setTimeout(() => setAnnouncement(t('waiting.admitted')), 500);
    return () => clearTimeout(timer);
  }, [s.admitted]);

  // Screen readers hear who joins and leaves, and who raises a hand: all of
  // them, when several come in one update.
  useEffect(() => {
    const said: string[] = [];
    const now = new Map(s.others.map((p) => [p.id, p.name]));
    for (const [id, name] of now) if (!known.current.has(id)) said.push(t('meeting.joined', { name }));
    for (const [id, name] of known.current) if (!now.has(id)) said.push(t('meeting.left', { name }));
    known.current = now;
    for (const p of s.others) if (p.hand_raised_at && !raised.current.has(p.id)) said.push(t('meeting.handRaised', { name: p.name }));
    raised.current = new Set(s.others.filter((p) => p.hand_raised_at).map((p) => p.id));
    if (said.length > 0) setAnnouncement(said.map((m) => (/[.!?]$/.test(m) ? m : `${m}.`)).join(' '));
  }, [s.others]);

  // A knock (the button rings it) is announced, and shown until answered.
  useEffect(() => {
    const names = s.knocks.names;
    if (s.knocks.count === 0 || names.length === 0) return;
    setAnnouncement(names.map((name) => t('lobby.knock', { name })).join(' '));
    setKnockers(names);
  }, [s.knocks.count]);
  useEffect(() => {
    const waiting = new Set(s.lobby.map((v) => v.name));
    setKnockers((names) => names.filter((n) => waiting.has(n)));
  }, [s.lobby]);

  // Changed rules: the host who saved them is told it worked, everyone else
  // hears that they changed; a pin is announced.
  const lastRules = useRef(s.rules);
  useEffect(() => {
    const before = lastRules.current;
    lastRules.current = s.rules;
    if (!before || !s.rules) return;
    if (before.pinned !== s.rules.pinned) {
      const pinned = s.rules.pinned && nameOf(s.rules.pinned);
      setAnnouncement(pinned ? t('meeting.pinnedAnnounce', { name: pinned }) : t('meeting.unpinned'));
    }
    const { pinned: _a, ...rulesBefore } = before;
    const { pinned: _b, ...rulesNow } = s.rules;
    if (JSON.stringify(rulesBefore) === JSON.stringify(rulesNow)) return;
    if (saving.current) setToast({ key: 'settings.saved' });
    else setAnnouncement(t('rules.changed'));
    saving.current = false;
  }, [s.rules]);

  useSpeechNotices(s.speech, host, setAnnouncement, (key) => setToast({ key }));

  // Messages that come while the chat is open are read.
  useEffect(() => session.chat.setShown(panel === 'chat'), [panel]);

  // Notices from the session: what a host did to us, refused actions.
  useEffect(() => {
    if (s.notice) setToast({ key: s.notice.key, params: s.notice.params });
  }, [s.notice?.seq]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(timer);
  }, [toast]);

  // A host who stops being one closes the hosts' panels.
  useEffect(() => {
    if (!host && (panel === 'lobby' || panel === 'speech')) setPanel(null);
    if (!host) setSettingsOpen(false);
  }, [host]);

  const self = s.self;
  const nameOf = (id: string) => (id === self?.id ? self.name : s.others.find((p) => p.id === id)?.name);
  // Our own reactions show on our tile; we know we sent them.
  const reactions = useReactions(session, (id) => (id === self?.id ? undefined : nameOf(id)), setAnnouncement);
  const hands = handRanks([self, ...s.others]);
  const tiles: TileModel[] = [];
  const screens: StageModel[] = [];
  const cameras = new Map<string, MediaStreamTrack | undefined>();
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
      hand: hands.get(self.id),
      reactions: reactions.get(self.id),
    });
    cameras.set(self.id, s.local.camera);
    if (s.local.screen) screens.push({ id: self.id, name: self.name, self: true, source: 'screen', track: s.local.screen });
  }
  for (const p of s.others) {
    const media: RemoteMedia = s.media.get(p.id) ?? {};
    const cam = published(p, 'camera');
    const mic = published(p, 'microphone');
    const camera = cam && !cam.muted ? media.camera : undefined;
    tiles.push({
      id: p.id,
      name: p.name,
      self: false,
      camera,
      micMuted: !mic || mic.muted,
      speaking: s.speakers.speaking.includes(p.id),
      active: s.speakers.active === p.id && s.others.length > 1,
      quality: s.quality[p.id],
      hand: hands.get(p.id),
      reactions: reactions.get(p.id),
    });
    cameras.set(p.id, camera);
    if (published(p, 'screen') && media.screen) screens.push({ id: p.id, name: p.name, self: false, source: 'screen', track: media.screen });
  }

  // The pinned participant is shown large, as a screen share is: their
  // screen if they share one, else their camera.
  const pinnedId = s.rules?.pinned;
  const pinnedName = pinnedId ? nameOf(pinnedId) : undefined;
  let stage: StageModel | undefined = screens[0];
  if (pinnedId && pinnedName !== undefined) {
    stage = screens.find((sc) => sc.id === pinnedId) ?? { id: pinnedId, name: pinnedName, self: pinnedId === self?.id, source: 'camera', track: cameras.get(pinnedId) };
  }
  const stageLabel = stage && (stage.source === 'screen' ? t('meeting.screenOf', { name: stage.name }) : t('meeting.pinnedOf', { name: stage.name }));

  const count = s.others.length + 1;
  const title = s.room?.name || t('meeting.title', { code });
  return (
    <div class={`meeting ${stage ? 'with-stage' : ''} ${panel ? 'with-panel' : ''}`}>
      <header class="meeting-header">
        <h1>{title}</h1>
        <span class="count">{count === 1 ? t('meeting.participant') : t('meeting.participants', { count })}</span>
        <button
          type="button"
          class="link light"
          onClick={() => void navigator.clipboard?.writeText(location.href).then(() => setCopied(true), () => setCopied(false))}
        >
          {copied ? t('prejoin.linkCopied') : t('prejoin.copyLink')}
        </button>
        {s.speech?.transcribing && <TranscribingBadge since={s.speech.transcribing_since} />}
        <span class={`connection ${s.connection}`} role="status" aria-label={t('connection.label', { state: t(connectionKey[s.connection]) })}>
          {t(connectionKey[s.connection])}
        </span>
      </header>

      <main class="meeting-body" ref={body}>
        {stage && (
          <section class="stage" aria-label={stageLabel} data-pinned={stage.id === pinnedId ? stage.id : undefined}>
            {stage.track ? (
              <Video
                track={stage.track}
                label={stageLabel!}
                class={stage.source}
                mirrored={stage.self && stage.source === 'camera'}
                of={stage.self ? undefined : { participant: stage.id, source: stage.source }}
              />
            ) : (
              <Avatar name={stage.name} />
            )}
            <div class="tile-name stage-caption" aria-hidden="true">
              {stageLabel}
            </div>
          </section>
        )}
        {count === 1 && !stage && <p class="alone">{t('meeting.alone')}</p>}
        <ul class="grid" style={{ '--cols': String(stage ? 1 : Math.ceil(Math.sqrt(tiles.length))) }}>
          {tiles.map((tile) => (
            <Tile key={tile.id} tile={tile} />
          ))}
        </ul>
        {panel === 'participants' && <ParticipantsPanel session={session} onClose={() => setPanel(null)} />}
        {panel === 'chat' && <ChatPanel session={session} draft={chatDraft} onClose={() => setPanel(null)} />}
        {panel === 'lobby' && host && <LobbyPanel session={session} onClose={() => setPanel(null)} />}
        {panel === 'speech' && host && <SpeechPanel session={session} code={code} onClose={() => setPanel(null)} />}
        {s.speech?.captions && captionsShown && <Captions session={session} />}
      </main>

      <Controls
        session={session}
        panel={panel}
        onPanel={setPanel}
        onSettings={() => setSettingsOpen(true)}
        onToast={(key) => setToast({ key })}
        onAnnounce={setAnnouncement}
        captionsShown={captionsShown}
        onCaptions={(shown) => {
          setCaptionsShown(shown);
          setCaptionsWanted(shown);
        }}
      />

      {host && knockers.length > 0 && panel !== 'lobby' && (
        <div class="knock-banner">
          <span>{knockers.map((name) => t('lobby.knock', { name })).join(' ')}</span>
          <button type="button" class="small" onClick={() => setPanel('lobby')}>
            {t('lobby.open')}
          </button>
        </div>
      )}
      {settingsOpen && s.rules && (
        <RoomSettings
          session={session}
          rules={s.rules}
          onSave={() => (saving.current = true)}
          onClose={() => setSettingsOpen(false)}
        />
      )}
      <div class="sr-only" aria-live="polite">
        {announcement}
      </div>
      <ChatAnnouncer session={session} />
      {toast && (
        <div class="toast" role="alert">
          {t(toast.key, toast.params)}
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
