// A participant's session: the signalling WebSocket and the two peer
// connections (publish: our tracks to the server; subscribe: everyone
// else's tracks from the server). Views read `state` and re-render when
// subscribe() calls them back.

import { ApiError, requestJoin, type JoinGrant } from './api';
import { ChatChannel } from './chatchannel';
import type { MessageKey } from './i18n';
import {
  subprotocol,
  type Caption,
  type ClientMessage,
  type Moderate,
  type OfferedTrack,
  type RoomRules,
  type RoomSettings,
  type ServerMessage,
  type Source,
  type SpeechControl,
  type Target,
  type TrackDeclaration,
  type ViewedTrack,
} from './protocol';
import { isHost, type ConnectionState, type Ended, type Governed, type InitialMedia, type MeetingState, type RemoteMedia } from './meetingstate';

const rtcConfig: RTCConfiguration = { bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };

// The camera goes out in three layers, so that the server can send each
// participant the one its tile needs (docs/protocol.md, "Simulcast").
const cameraEncodings: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

export class MeetingSession {
  state: MeetingState = {
    connection: 'connecting',
    self: null,
    others: [],
    media: new Map(),
    local: {},
    micMuted: false,
    cameraOn: false,
    sharing: false,
    speakers: { active: '', speaking: [] },
    quality: {},
    waiting: false,
    admitted: false,
    room: null,
    rules: null,
    lobby: [],
    speech: null,
    knocks: { count: 0, names: [] },
    chat: ChatChannel.initial(),
    notice: null,
    ended: null,
    quietAbove: 0,
  };

  private ws: WebSocket | null = null; // none before the join API answers
  private signalUrl = ''; // the node hosting the meeting; '' for this server
  private rejoinToken = ''; // lets us back in if the meeting moves to another node
  private rejoining = false;
  private failedOpens = 0; // signalling connections that did not open, in a row
  private retry: ReturnType<typeof setTimeout> | undefined;
  private resumeToken = '';
  private resumeWithin = 0; // ms the server keeps our place after a drop
  private reconnectUntil = 0; // while reconnecting: when to give up
  private lastRestart = 0;
  private pub: RTCPeerConnection | null = null;
  private sub: RTCPeerConnection | null = null;
  private transceivers = new Map<Source, RTCRtpTransceiver>();
  private offered: OfferedTrack[] = [];
  private listeners = new Set<() => void>();
  // Captions go to their own listeners, not into state: partials come
  // several times a second and only the captions area needs them.
  private captionListeners = new Set<(c: Caption) => void>();
  private inbox: Promise<void> = Promise.resolve();
  private outbox: Promise<void> = Promise.resolve(); // publish negotiations, in order
  private publishAnswer: { resolve: (sdp: string) => void; reject: (err: Error) => void } | null = null;
  private lastView = '';
  private iceServers: RTCIceServer[] = [];
  private noticeSeq = 0;

  // chat is the meeting's chat and reactions.
  readonly chat: ChatChannel;

  constructor(
    private room: string,
    private name: string,
    private initial: InitialMedia,
    // Where nobody can sign in, everyone is a guest: not worth a badge.
    readonly signInAvailable = true,
  ) {
    this.chat = new ChatChannel({
      room,
      send: (msg) => this.send(msg),
      state: () => this.state.chat,
      update: (chat) => {
        this.state.chat = chat;
        this.emit();
      },
      self: () => (this.state.self ? { id: this.state.self.id, token: this.resumeToken } : null),
    });
    this.connect();
  }

  // connect opens the signalling socket: to join, or, after it dropped, to
  // come back as the same participant (resume) while the server waits, or,
  // when the meeting moved to another node of a cluster, to rejoin it there.
  // A grant already in hand (rejoinIfMoved's) is not asked for again.
  private connect(given?: JoinGrant) {
    if (this.state.ended) return;
    if (!given && this.state.self && this.resumeToken && !this.rejoining) {
      const self = this.state.self;
      this.open(() => this.send({ type: 'resume', participant: self.id, token: this.resumeToken }));
      return;
    }
    (given ? Promise.resolve(given) : requestJoin(this.room, this.name)).then(
      (grant) => {
        if (this.state.ended) return;
        this.state.room = grant.room;
        this.signalUrl = grant.signal_url ?? '';
        const rejoin = this.rejoining ? this.rejoinToken : undefined;
        this.open(() => this.send({ type: 'join', room: this.room, name: this.name, token: grant.token, rejoin }));
      },
      (err) => {
        const e = err instanceof ApiError ? err : new ApiError('internal', String(err));
        // On the way back into a meeting, the server we ask may be the
        // one that went away: keep trying while our place is kept.
        const back = this.rejoining || this.state.waiting;
        if (back && (e.code === 'connection_lost' || e.code === 'unavailable')) this.connectionDropped();
        else this.end({ reason: e.code, message: e.message, retryAfter: e.retryAfter });
      },
    );
  }

  // open opens the signalling socket on the meeting's node and says hello.
  private open(hello: () => void) {
    const url = new URL(this.signalUrl || '/ws', location.href);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, [subprotocol]);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failedOpens = 0;
      hello();
    };
    ws.onmessage = (e) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.inbox = this.inbox.then(() => this.handle(msg)).catch((err) => console.error('visio: message', msg.type, err));
    };
    ws.onclose = () => {
      if (!opened) this.failedOpens++;
      this.connectionDropped();
    };
  }

  // connectionDropped tries to get back into the meeting for as long as the
  // server keeps our place (the welcome says how long), then gives up.
  private connectionDropped() {
    this.chat.dropped();
    if (this.state.ended) return;
    // An answer that was on its way is lost: let the negotiations go on.
    this.publishAnswer?.reject(new Error('the signalling connection dropped'));
    this.publishAnswer = null;
    const now = Date.now();
    if (!this.state.self) {
      // Someone waiting in the lobby has no place to resume: they knock
      // again, wherever the meeting is now.
      if (!this.state.waiting) return this.end({ reason: 'connection_lost' });
      this.reconnectUntil ||= now + knockAgainWithin;
      if (now > this.reconnectUntil) return this.end({ reason: 'connection_lost' });
      this.retryLater(() => this.connect());
      return;
    }
    if (!this.reconnectUntil) this.reconnectUntil = now + this.resumeWithin;
    if (now > this.reconnectUntil) {
      this.end({ reason: 'connection_lost' });
      return;
    }
    this.state.connection = 'reconnecting';
    this.emit();
    this.retryLater(() => {
      if (this.failedOpens > 0 && !this.rejoining && this.rejoinToken) void this.rejoinIfMoved();
      else this.connect();
    });
  }

  // retryLater tries to get back in half a second from now, once: a drop seen
  // twice (the socket's close, then the server's goodbye) is one retry.
  private retryLater(attempt: () => void) {
    clearTimeout(this.retry);
    // Once the node does not answer, each try asks the join API: slower.
    this.retry = setTimeout(() => this.state.ended || attempt(), this.failedOpens > 0 ? 1000 : 500);
  }

  // rejoinIfMoved asks where the meeting is, since its node does not
  // answer: if another node hosts it now, we rejoin it there; otherwise we
  // go on trying to resume.
  private async rejoinIfMoved() {
    let grant: JoinGrant | undefined;
    try {
      grant = await requestJoin(this.room, this.name);
    } catch {
      // the server asked does not answer either: try again
    }
    if (this.state.ended) return;
    if (grant && (grant.signal_url ?? '') !== this.signalUrl) this.rejoin(grant);
    else this.connect();
  }

  // rejoin leaves the connections to a node that is gone and joins the
  // meeting where it is now, as the same participant, with what we were
  // publishing (a screen share ends).
  private rejoin(grant?: JoinGrant) {
    clearTimeout(this.retry); // this is the way back in now
    this.rejoining = true;
    this.publishAnswer?.reject(new Error('the meeting moved'));
    this.publishAnswer = null;
    this.pub?.close();
    this.sub?.close();
    this.pub = this.sub = null;
    this.transceivers.clear();
    this.offered = [];
    this.lastView = '';
    const { microphone, camera } = this.state.local;
    this.state.local.screen?.stop();
    this.state.local = {};
    this.state.media = new Map();
    this.state.sharing = false;
    this.initial = { ...this.initial, microphone, camera: camera ?? this.initial.camera, micMuted: this.state.micMuted, cameraOn: this.state.cameraOn };
    this.connect(grant);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // onCaption calls fn with each caption the server sends.
  onCaption(fn: (c: Caption) => void): () => void {
    this.captionListeners.add(fn);
    return () => this.captionListeners.delete(fn);
  }

  private emit() {
    this.state = { ...this.state };
    this.listeners.forEach((fn) => fn());
  }

  private send(msg: ClientMessage) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private async handle(msg: ServerMessage) {
    const s = this.state;
    switch (msg.type) {
      case 'welcome':
        this.iceServers = msg.ice_servers ?? [];
        this.resumeToken = msg.resume_token;
        this.rejoinToken = msg.rejoin_token ?? '';
        this.resumeWithin = msg.resume_within_ms;
        s.quietAbove = msg.quiet_above ?? 0;
        s.admitted ||= s.waiting;
        s.waiting = false;
        this.reconnectUntil = 0;
        s.lobby = []; // a lobby message follows when someone waits
        s.self = msg.you;
        s.others = msg.participants;
        this.chat.welcome(!!msg.resumed);
        this.emit();
        if (msg.resumed) {
          // Back after a drop: the network may have changed under us.
          this.reconnectUntil = 0;
          for (const pc of [this.pub, this.sub]) pc?.setConfiguration({ ...rtcConfig, iceServers: this.iceServers });
          this.restartIce({ force: true, subscribe: false }); // the server restarts the subscribe side itself
          this.updateConnection();
          break;
        }
        if (this.rejoining) this.rejoining = false;
        else if (msg.start_muted && this.initial.microphone && !this.initial.micMuted) {
          this.initial.micMuted = true;
          this.notify('meeting.startMuted', { count: String(msg.participants.length) });
        }
        // Not awaited: the publish answer comes through this same inbox.
        void this.publishInitial().then(() => this.updateConnection());
        break;
      case 'participant_joined':
        s.others = [...s.others.filter((p) => p.id !== msg.participant.id), msg.participant];
        this.emit();
        break;
      case 'participant_updated':
        if (msg.participant.id === s.self?.id) {
          const wasHost = isHost(s.self);
          s.self = msg.participant;
          if (wasHost && !isHost(s.self)) {
            s.lobby = []; // no longer ours to answer
            this.obeyRoom(null);
          }
        } else s.others = s.others.map((p) => (p.id === msg.participant.id ? msg.participant : p));
        this.emit();
        break;
      case 'participant_left':
        s.others = s.others.filter((p) => p.id !== msg.id);
        this.emit();
        break;
      case 'speakers':
        s.speakers = { active: msg.active, speaking: msg.speaking };
        this.emit();
        break;
      case 'quality':
        s.quality = msg.participants;
        this.emit();
        break;
      case 'layers':
        await this.setLayers(msg.mid, msg.active);
        break;
      case 'publish_answer':
        this.publishAnswer?.resolve(msg.sdp);
        this.publishAnswer = null;
        break;
      case 'offer':
        await this.answerOffer(msg.sdp, msg.tracks);
        break;
      case 'candidate':
        await (msg.target === 'publish' ? this.pub : this.sub)?.addIceCandidate(msg.candidate);
        break;
      case 'waiting':
        s.waiting = true;
        this.reconnectUntil = 0;
        this.emit();
        break;
      case 'lobby': {
        const before = new Set(s.lobby.map((v) => v.id));
        s.lobby = msg.waiting;
        if (msg.knock) {
          const arrived = msg.waiting.filter((v) => !before.has(v.id)).map((v) => v.name);
          const last = msg.waiting.at(-1);
          s.knocks = { count: s.knocks.count + 1, names: arrived.length > 0 ? arrived : last ? [last.name] : [] };
        }
        this.emit();
        break;
      }
      case 'room': {
        const before = s.rules;
        const { type: _, ...rules } = msg;
        s.rules = rules;
        this.emit();
        this.obeyRoom(before);
        break;
      }
      case 'speech': {
        const { type: _, ...speech } = msg;
        s.speech = speech;
        this.emit();
        break;
      }
      case 'caption': {
        const { type: _, ...caption } = msg;
        this.captionListeners.forEach((fn) => fn(caption));
        break;
      }
      case 'chat_history':
      case 'chat':
      case 'chat_deleted':
      case 'reaction':
        this.chat.receive(msg);
        break;
      case 'moderated':
        await this.obeyModeration(msg.action, msg.source, msg.by);
        break;
      case 'bye':
        // A node leaving the cluster hands its meetings to another one.
        if (msg.reason === 'moved' && (this.rejoinToken || s.waiting)) {
          this.dropSocket();
          if (s.waiting) this.connect(); // knock again where it goes
          else this.rejoin();
        } else this.end({ reason: msg.reason });
        break;
      case 'error':
        console.warn('visio: server error', msg.code, msg.request ?? '', msg.message);
        if (msg.request === 'join' && msg.code === 'room_unavailable' && (this.rejoining || s.waiting)) {
          // The meeting is on its way to another node: ask again.
          this.dropSocket();
          this.connectionDropped();
        } else if (msg.request === 'resume' && this.rejoinToken && !this.rejoining) {
          // The server no longer knows us: the meeting may have moved.
          this.dropSocket();
          this.rejoin();
        } else if (msg.request === 'join' || msg.request === 'resume' || msg.code === 'unsupported_protocol') {
          this.end({ reason: msg.code, message: msg.message });
        } else if (msg.code === 'forbidden' || msg.code === 'rate_limited' || shownRefusals.has(msg.request ?? '')) {
          const chat = msg.request === 'chat_send' || msg.request === 'chat_delete';
          if (msg.request === 'chat_send') this.chat.refused();
          // A refusal of something the user did: say so, do not drop it.
          const known: Partial<Record<string, MessageKey>> = {
            forbidden: 'refused.forbidden',
            not_found: chat ? 'chat.notFound' : 'refused.not_found',
            sign_in_required: 'refused.sign_in_required',
            room_full: 'refused.room_full',
            rate_limited: 'refused.rate_limited',
          };
          const key = known[msg.code];
          this.notify(key ?? (chat ? 'chat.refused' : 'refused.other'), key ? {} : { message: msg.message });
        }
        break;
    }
  }

  private newConnection(target: Target): RTCPeerConnection {
    const pc = new RTCPeerConnection({ ...rtcConfig, iceServers: this.iceServers });
    pc.onicecandidate = (e) => {
      if (e.candidate) this.send({ type: 'candidate', target, candidate: e.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => this.updateConnection();
    // A connection that loses its path (a network change: new address,
    // Wi-Fi to mobile) does not come back by itself: restart ICE.
    let lost: ReturnType<typeof setTimeout> | undefined;
    pc.oniceconnectionstatechange = () => {
      clearTimeout(lost);
      if (pc.iceConnectionState === 'failed') this.restartIce();
      else if (pc.iceConnectionState === 'disconnected') lost = setTimeout(() => this.restartIce(), 2000);
    };
    return pc;
  }

  // restartIce gets new ICE credentials on both connections: a new offer on
  // the publish one, a request for one on the subscribe one. At most once
  // every 5 s unless forced.
  private restartIce({ force = false, subscribe = true } = {}) {
    const now = Date.now();
    if (this.state.ended || this.ws?.readyState !== WebSocket.OPEN || (!force && now - this.lastRestart < 5000)) return;
    this.lastRestart = now;
    if (this.sub && subscribe) this.send({ type: 'restart' });
    if (this.pub) {
      this.pub.restartIce();
      void this.negotiatePublish(true);
    }
  }

  private updateConnection() {
    if (this.state.ended) return;
    const states = [this.pub, this.sub].filter((pc) => pc !== null).map((pc) => pc.connectionState);
    let next: ConnectionState = 'connected';
    if (!this.state.self) next = 'connecting';
    else if (states.includes('failed')) next = 'failed';
    else if (states.includes('disconnected')) next = 'reconnecting';
    else if (states.some((st) => st === 'new' || st === 'connecting')) next = 'connecting';
    if (next !== this.state.connection) {
      this.state.connection = next;
      this.emit();
    }
  }

  // ---- publishing ----

  private async publishInitial() {
    const { microphone, camera, micMuted, cameraOn } = this.initial;
    if (microphone) {
      microphone.enabled = !micMuted;
      this.state.local.microphone = microphone;
      this.state.micMuted = micMuted;
      this.addTransceiver('microphone', microphone);
    }
    if (camera) {
      this.state.local.camera = cameraOn ? camera : undefined;
      this.state.cameraOn = cameraOn;
      this.addTransceiver('camera', cameraOn ? camera : null);
      if (!cameraOn) camera.stop();
    }
    this.emit();
    if (this.transceivers.size > 0) await this.negotiatePublish(true);
  }

  private addTransceiver(source: Source, track: MediaStreamTrack | null) {
    this.pub ??= this.newConnection('publish');
    const kind = source === 'microphone' || source === 'screen_audio' ? 'audio' : 'video';
    const init: RTCRtpTransceiverInit = { direction: 'sendonly' };
    if (source === 'camera') init.sendEncodings = cameraEncodings;
    this.transceivers.set(source, this.pub.addTransceiver(track ?? kind, init));
  }

  // setLayers sends only the encodings someone receives.
  private async setLayers(mid: string, active: string[]) {
    const tr = this.pub?.getTransceivers().find((t) => t.mid === mid);
    if (!tr) return;
    const params = tr.sender.getParameters();
    if (!params.encodings?.length) return;
    for (const e of params.encodings) e.active = e.rid ? active.includes(e.rid) : active.length > 0;
    await tr.sender.setParameters(params);
  }

  // declarations lists what we publish: the microphone and camera while
  // their transceivers exist (muted when off), the screen while shared.
  private declarations(): TrackDeclaration[] {
    const out: TrackDeclaration[] = [];
    for (const [source, tr] of this.transceivers) {
      if (!tr.mid) continue;
      const live = this.state.local[source] !== undefined;
      if (source === 'microphone') out.push({ mid: tr.mid, source, muted: this.state.micMuted });
      else if (source === 'camera') out.push({ mid: tr.mid, source, muted: !live });
      else if (live) out.push({ mid: tr.mid, source, muted: false });
    }
    return out;
  }

  // negotiatePublish tells the server what we publish and, when transceivers
  // were added, renegotiates the publish connection.
  private negotiatePublish(renegotiate: boolean): Promise<void> {
    this.outbox = this.outbox
      .then(async () => {
        const pc = this.pub;
        if (!pc || !renegotiate) {
          this.send({ type: 'publish', tracks: this.declarations() });
          return;
        }
        await pc.setLocalDescription(await pc.createOffer());
        const answer = new Promise<string>((resolve, reject) => (this.publishAnswer = { resolve, reject }));
        this.send({ type: 'publish', sdp: pc.localDescription!.sdp, tracks: this.declarations() });
        await pc.setRemoteDescription({ type: 'answer', sdp: await answer });
      })
      .catch((err) => console.error('visio: publish', err));
    return this.outbox;
  }

  // setMicrophoneMuted mutes or unmutes the microphone; the room may forbid
  // unmuting. With redeclare, the server is told through the full list of
  // what we publish rather than a mute: after a host stopped the source,
  // the server no longer knows it, and a mute of it would be refused.
  setMicrophoneMuted(muted: boolean, { redeclare = false } = {}) {
    const mic = this.state.local.microphone;
    if (!mic || (!muted && !this.may('microphone'))) return;
    mic.enabled = !muted;
    this.state.micMuted = muted;
    this.emit();
    if (redeclare) void this.negotiatePublish(false);
    else this.send({ type: 'mute', source: 'microphone', muted });
  }

  // setCamera turns the camera on with track, or off with null. Off stops
  // the device so that its light goes out. redeclare: as for the microphone.
  async setCamera(track: MediaStreamTrack | null, { redeclare = false } = {}) {
    if (track && !this.may('camera')) {
      track.stop();
      return;
    }
    const old = this.state.local.camera;
    this.state.local.camera = track ?? undefined;
    this.state.cameraOn = track !== null;
    this.emit();
    const tr = this.transceivers.get('camera');
    if (tr) {
      await tr.sender.replaceTrack(track);
      if (redeclare) void this.negotiatePublish(false);
      else this.send({ type: 'mute', source: 'camera', muted: track === null });
    } else if (track) {
      this.addTransceiver('camera', track);
      await this.negotiatePublish(true);
    }
    if (old && old !== track) old.stop();
  }

  async startScreen(stream: MediaStream) {
    const video = stream.getVideoTracks()[0];
    if (!video || !this.may('screen')) {
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    const audio = stream.getAudioTracks()[0];
    video.addEventListener('ended', () => void this.stopScreen(video));
    this.state.local.screen = video;
    this.state.local.screen_audio = audio;
    this.state.sharing = true;
    this.emit();
    let renegotiate = false;
    for (const [source, track] of [['screen', video], ['screen_audio', audio]] as const) {
      if (!track) continue;
      const tr = this.transceivers.get(source);
      if (tr) await tr.sender.replaceTrack(track);
      else {
        this.addTransceiver(source, track);
        renegotiate = true;
      }
    }
    await this.negotiatePublish(renegotiate);
  }

  // stopScreen stops sharing; when only: stops only if that track is still
  // the one shared (the browser's own "stop sharing" button ends it).
  async stopScreen(only?: MediaStreamTrack) {
    const { screen, screen_audio } = this.state.local;
    if (!screen || (only && only !== screen)) return;
    screen.stop();
    screen_audio?.stop();
    this.state.local.screen = undefined;
    this.state.local.screen_audio = undefined;
    this.state.sharing = false;
    this.emit();
    await this.transceivers.get('screen')?.sender.replaceTrack(null);
    await this.transceivers.get('screen_audio')?.sender.replaceTrack(null);
    await this.negotiatePublish(false);
  }

  // initialCamera is the camera chosen before joining, while it runs: the
  // waiting screen shows it.
  initialCamera(): MediaStreamTrack | undefined {
    const camera = this.initial.camera;
    return this.initial.cameraOn && camera?.readyState === 'live' ? camera : undefined;
  }

  // ---- the room's rules and its hosts ----

  // may tells whether the room lets us send source: hosts always may.
  may(source: Governed): boolean {
    const rules = this.state.rules;
    return !rules || isHost(this.state.self) || rules.publishing[source];
  }

  // obeyRoom stops what the room's rules no longer let us send, as if the
  // user had done it. The server stops forwarding it anyway; this puts out
  // the camera's light and makes the controls tell the truth. It forwards
  // again a source the rules allow anew only once told what we publish.
  private obeyRoom(before: RoomRules | null) {
    const { rules, self } = this.state;
    if (!rules || !self || isHost(self)) return;
    if (!rules.publishing.microphone && this.state.local.microphone && !this.state.micMuted) {
      this.setMicrophoneMuted(true, { redeclare: true });
    }
    if (!rules.publishing.camera && this.state.cameraOn) void this.setCamera(null, { redeclare: true });
    if (!rules.publishing.screen && this.state.sharing) void this.stopScreen();
    const allowedAnew = (['microphone', 'camera', 'screen'] as const).some((src) => before && !before.publishing[src] && rules.publishing[src]);
    if (allowedAnew) void this.negotiatePublish(false);
  }

  // obeyModeration does what a host did to us, as if the user had, and
  // says who did it.
  private async obeyModeration(action: 'mute' | 'stop' | 'lower_hand', source: Source, by: string) {
    // The server leaves by empty when the rules changed through the REST API.
    const notice = (key: MessageKey, anonymous: MessageKey) => this.notify(by ? key : anonymous, { name: by });
    if (action === 'lower_hand') {
      notice('moderated.hand', 'moderated.handAnonymous'); // the server lowered it already
    } else if (source === 'microphone') {
      this.setMicrophoneMuted(true, { redeclare: action === 'stop' });
      notice('moderated.microphone', 'moderated.microphoneAnonymous');
    } else if (source === 'camera' && action === 'stop') {
      if (this.state.cameraOn) await this.setCamera(null, { redeclare: true });
      notice('moderated.camera', 'moderated.cameraAnonymous');
    } else if (source === 'screen' && action === 'stop') {
      await this.stopScreen();
      notice('moderated.screen', 'moderated.screenAnonymous');
    }
    // screen_audio stops with its screen, which has its own message.
  }

  private notify(key: MessageKey, params?: Record<string, string>) {
    this.state.notice = { key, params, seq: ++this.noticeSeq };
    this.emit();
  }

  // setHand raises or lowers our hand; everyone sees it, in the order
  // hands were raised.
  setHand(raised: boolean) {
    this.send({ type: 'hand', raised });
  }

  admit(participant: string) {
    this.send({ type: 'admit', participant });
  }

  deny(participant: string) {
    this.send({ type: 'deny', participant });
  }

  admitAll() {
    this.send({ type: 'admit_all' });
  }

  moderate(action: Omit<Moderate, 'type'>) {
    this.send({ type: 'moderate', ...action });
  }

  changeSettings(settings: Omit<RoomSettings, 'type'>) {
    this.send({ type: 'room_settings', ...settings });
  }

  // controlSpeech turns the room's captions or transcription on or off, or
  // sets its spoken language; the server's speech message says what it did.
  controlSpeech(control: Omit<SpeechControl, 'type'>) {
    this.send({ type: 'speech_control', ...control });
  }

  // ---- receiving ----

  // setView tells the server which videos are on screen and how large, so
  // that it sends each at the quality its tile needs and pauses the others.
  setView(tracks: ViewedTrack[]) {
    const key = JSON.stringify(tracks);
    if (key === this.lastView || !this.state.self) return;
    this.lastView = key;
    this.send({ type: 'view', tracks });
  }

  private async answerOffer(sdp: string, tracks: OfferedTrack[]) {
    if (!this.sub) {
      this.sub = this.newConnection('subscribe');
      this.updateConnection();
    }
    await this.sub.setRemoteDescription({ type: 'offer', sdp });
    await this.sub.setLocalDescription(await this.sub.createAnswer());
    this.send({ type: 'answer', sdp: this.sub.localDescription!.sdp });
    this.offered = tracks;
    const media = new Map<string, RemoteMedia>();
    for (const o of this.offered) {
      const tr = this.sub.getTransceivers().find((t) => t.mid === o.mid);
      if (!tr) continue;
      const m = media.get(o.participant) ?? {};
      m[o.source] = tr.receiver.track;
      media.set(o.participant, m);
    }
    this.state.media = media;
    this.emit();
  }

  // ---- ending ----

  leave() {
    this.send({ type: 'leave' });
    this.end({ reason: 'left' });
  }

  // dropSocket closes the signalling socket, which is then no drop to
  // come back from.
  private dropSocket() {
    if (!this.ws) return;
    this.ws.onclose = null;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  private end(ended: Ended) {
    if (this.state.ended) return;
    this.state.ended = ended;
    this.dropSocket();
    this.pub?.close();
    this.sub?.close();
    for (const track of Object.values(this.state.local)) track?.stop();
    this.initial.camera?.stop();
    this.emit();
  }
}

// knockAgainWithin is how long someone waiting in the lobby tries to
// knock again after their connection dropped.
const knockAgainWithin = 20000;

// shownRefusals are the messages whose refusal is shown to whoever sent
// them: those only hosts send, and chat messages.
const shownRefusals = new Set(['admit', 'deny', 'admit_all', 'moderate', 'room_settings', 'speech_control', 'chat_delete', 'chat_send', 'react']);
