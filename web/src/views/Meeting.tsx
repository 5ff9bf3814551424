import { useEffect, useRef, useState } from 'preact/hooks';
import { captionsWanted, setCaptionsWanted } from '../captions';
import { t, type MessageKey } from '../i18n';
import type { Participant } from '../protocol';
import { handRanks, isHost, type RemoteMedia } from '../meetingstate';
import type { MeetingSession } from '../session';
import { saveLayout, saveReception, savedLayout, savedReception } from '../layout';
import { play, type Sound } from '../sounds';
import { Audio, useViewReport } from './media';
import { Captions } from './Captions';
import { ChatAnnouncer, ChatPanel } from './Chat';
import { TranscribingBadge, useSpeechNotices } from './Consent';
import { Controls, type PanelName } from './Controls';
import { LobbyPanel } from './Lobby';
import { ParticipantsPanel } from './Participants';
import { useReactions } from './Reactions';
import { RoomSettings } from './RoomSettings';
import { SpeechPanel } from './SpeechPanel';
import { LayoutIcon } from './icons';
import { LayoutDialog } from './LayoutDialog';
import { chooseStage, MeetingLayout } from './MeetingLayout';
import type { TileModel } from './Tile';

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
  const [layout, setLayout] = useState(savedLayout);
  const [reception, setReception] = useState(savedReception);
  const [localPin, setLocalPin] = useState<string | null>(null); // a tile's key
  const lastSpeaker = useRef<string | undefined>(undefined); // the last other participant who spoke
  const [layoutOpen, setLayoutOpen] = useState(false);
  const [soundsPlayed, setSoundsPlayed] = useState(0); // data-sounds: tests tell that sounds play
  // Notification sounds stop in large meetings, where they would never end.
  const chime = (sound: Sound) => {
    if (s.quietAbove === 0 || s.others.length + 1 > s.quietAbove) return;
    void play(sound).then((played) => played && setSoundsPlayed((n) => n + 1));
  };
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
    const arrived = said.length > 0;
    for (const [id, name] of known.current) if (!now.has(id)) said.push(t('meeting.left', { name }));
    if (said.length > 0) chime(arrived ? 'joined' : 'left');
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

  // A message from someone else, while the chat is closed, chimes.
  const unread = useRef(s.chat.unread);
  useEffect(() => {
    const more = s.chat.unread > unread.current;
    unread.current = s.chat.unread;
    if (more) chime('message');
  }, [s.chat.unread]);

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

  // Pinning is this participant's own: it shows someone large for them
  // only, until they unpin, while that person is here.
  const pin = (key: string | null) => {
    setLocalPin(key);
    const name = key && items.find((i) => i.key === key)?.name;
    setAnnouncement(name ? t('layout.pinnedAnnounce', { name }) : t('layout.unpinnedAnnounce'));
  };

  const self = s.self;
  const nameOf = (id: string) => (id === self?.id ? self.name : s.others.find((p) => p.id === id)?.name);
  // Our own reactions show on our tile; we know we sent them.
  const reactions = useReactions(session, (id) => (id === self?.id ? undefined : nameOf(id)), setAnnouncement);
  const hands = handRanks([self, ...s.others]);
  // Whose video this participant receives (low-bandwidth modes): everyone's,
  // only the active speaker's, or nobody's. Their own camera is local.
  // While we speak, the one shown as speaking stays the last other who did.
  const active = s.speakers.active;
  if (active && active !== s.self?.id && s.others.some((p) => p.id === active)) lastSpeaker.current = active;
  if (!s.others.some((p) => p.id === lastSpeaker.current)) lastSpeaker.current = undefined;
  const speakerId = lastSpeaker.current ?? s.others[0]?.id;
  const receives = (id: string, source: 'camera' | 'screen') =>
    reception === 'all' || (reception === 'speaker' && (source === 'screen' || id === speakerId));
  const people: TileModel[] = [];
  const screens: TileModel[] = [];
  const screenTile = (id: string, name: string, isSelf: boolean, track: MediaStreamTrack): TileModel => {
    const shown = isSelf || receives(id, 'screen');
    return { key: `${id}/screen`, id, name: t('meeting.screenOf', { name }), self: isSelf, source: 'screen', video: shown ? track : undefined, videoHidden: !shown, micMuted: false, speaking: false, active: false };
  };
  if (self) {
    people.push({
      key: self.id,
      id: self.id,
      name: `${self.name} (${t('meeting.you')})`,
      self: true,
      source: 'camera',
      video: s.local.camera,
      micMuted: s.micMuted || !s.local.microphone,
      speaking: s.speakers.speaking.includes(self.id),
      active: false,
      quality: s.quality[self.id],
      hand: hands.get(self.id),
      reactions: reactions.get(self.id),
    });
    if (s.local.screen) screens.push(screenTile(self.id, self.name, true, s.local.screen));
  }
  for (const p of s.others) {
    const media: RemoteMedia = s.media.get(p.id) ?? {};
    const cam = published(p, 'camera');
    const mic = published(p, 'microphone');
    const camera = cam && !cam.muted ? media.camera : undefined;
    const shown = receives(p.id, 'camera');
    people.push({
      key: p.id,
      id: p.id,
      name: p.name,
      self: false,
      source: 'camera',
      video: shown ? camera : undefined,
      videoHidden: !!camera && !shown,
      micMuted: !mic || mic.muted,
      speaking: s.speakers.speaking.includes(p.id),
      active: s.speakers.active === p.id && s.others.length > 1,
      quality: s.quality[p.id],
      hand: hands.get(p.id),
      reactions: reactions.get(p.id),
    });
    if (published(p, 'screen') && media.screen) screens.push(screenTile(p.id, p.name, false, media.screen));
  }
  // Screen shares come first: on the first page when they are tiles.
  const items = [...screens, ...people];
  for (const item of items) item.pinned = item.key === localPin;
  const stage = chooseStage(items, { layout, localPin, hostPin: s.rules?.pinned, speaker: speakerId });

  const count = s.others.length + 1;
  const title = s.room?.name || t('meeting.title', { code });
  return (
    <div class={`meeting ${stage ? 'with-stage' : ''} ${panel ? 'with-panel' : ''}`} data-sounds={soundsPlayed}>
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
        {reception !== 'all' && <span class="reception-badge">{t(reception === 'audio' ? 'reception.audioBadge' : 'reception.speakerBadge')}</span>}
        <button type="button" class="link light layout-button" aria-haspopup="dialog" onClick={() => setLayoutOpen(true)}>
          <LayoutIcon />
          {t('layout.button')}
        </button>
        <span class={`connection ${s.connection}`} role="status" aria-label={t('connection.label', { state: t(connectionKey[s.connection]) })}>
          {t(connectionKey[s.connection])}
        </span>
      </header>

      <main class="meeting-body" ref={body}>
        {count === 1 && !stage && <p class="alone">{t('meeting.alone')}</p>}
        <MeetingLayout items={items} stage={stage} onPin={pin} layoutKey={layout} />
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
      {layoutOpen && (
        <LayoutDialog
          layout={layout}
          reception={reception}
          onLayout={(l) => {
            setLayout(l);
            saveLayout(l);
          }}
          onReception={(r) => {
            setReception(r);
            saveReception(r);
          }}
          onClose={() => setLayoutOpen(false)}
        />
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
