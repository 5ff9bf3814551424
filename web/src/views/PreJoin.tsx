import { useEffect, useRef, useState } from 'preact/hooks';
import { fetchMe, getRoom, signInURL, type Me, type RoomInfo } from '../api';
import { safeStorageGet, t } from '../i18n';
import { capture, listDevices, problemMessage, stopStream, type DeviceProblem } from '../media';
import type { InitialMedia } from '../meetingstate';
import { Video } from './media';
import { MicIcon, CameraIcon } from './icons';

const nameKey = 'visio.name';

export interface JoinRequest {
  name: string;
  media: InitialMedia;
  signInAvailable: boolean; // whether people can sign in here at all
}

// PreJoin lets people check their camera and microphone, pick devices and a
// name, and choose to start muted, before anyone sees or hears them. A
// signed-in user appears under their account's name, which the server
// decides, so it is shown and not asked for.
export function PreJoin({ code, onJoin }: { code: string; onJoin: (r: JoinRequest) => void }) {
  const [name, setName] = useState(safeStorageGet(nameKey) ?? '');
  const [nameMissing, setNameMissing] = useState(false);
  const [micOn, setMicOn] = useState(true);
  const [camOn, setCamOn] = useState(true);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [problem, setProblem] = useState<DeviceProblem | null>(null);
  const [missing, setMissing] = useState({ audio: false, video: false });
  const [devices, setDevices] = useState<{ audio: MediaDeviceInfo[]; video: MediaDeviceInfo[] }>({ audio: [], video: [] });
  const [audioId, setAudioId] = useState<string | undefined>();
  const [videoId, setVideoId] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);
  const [me, setMe] = useState<Me | null>(null);
  const [room, setRoom] = useState<RoomInfo | null>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const handedOver = useRef(false);

  const start = async (audioDeviceId = audioId, videoDeviceId = videoId) => {
    stopStream(streamRef.current);
    const c = await capture({ audio: true, video: true, audioDeviceId, videoDeviceId });
    streamRef.current = c.stream;
    setStream(c.stream);
    setProblem(c.problem ?? null);
    setMissing(c.missing);
    const d = await listDevices();
    setDevices(d);
    setAudioId(c.stream.getAudioTracks()[0]?.getSettings().deviceId ?? audioDeviceId);
    setVideoId(c.stream.getVideoTracks()[0]?.getSettings().deviceId ?? videoDeviceId);
  };

  useEffect(() => {
    fetchMe().then(setMe, () => {});
    // Only for the room's name: a room that does not exist is told by the
    // join request, since some servers let people meet at any code.
    getRoom(code).then(setRoom, () => {});
    void start();
    return () => {
      if (!handedOver.current) stopStream(streamRef.current);
    };
  }, []);

  const audioTrack = stream?.getAudioTracks()[0];
  const videoTrack = stream?.getVideoTracks()[0];

  const accountName = me?.signed_in && me.name ? me.name : null;

  const join = (e: Event) => {
    e.preventDefault();
    const trimmed = accountName ?? name.trim();
    if (!trimmed) {
      setNameMissing(true);
      return;
    }
    try {
      if (!accountName) localStorage.setItem(nameKey, trimmed);
    } catch {
      // the name is only remembered when storage is allowed
    }
    handedOver.current = true;
    if (videoTrack && !camOn) videoTrack.stop();
    onJoin({
      name: trimmed,
      signInAvailable: !!me?.sign_in_available,
      media: { microphone: audioTrack, camera: camOn ? videoTrack : undefined, micMuted: !micOn, cameraOn: camOn && !!videoTrack },
    });
  };

  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  const deviceHint = problem
    ? t(problemMessage[problem])
    : missing.video && !missing.audio
      ? t('devices.noCamera')
      : missing.audio && !missing.video
        ? t('devices.noMicrophone')
        : null;

  return (
    <main class="page prejoin">
      <h1>{t('prejoin.title')}</h1>
      <p class="room-line">
        {room?.name ? t('prejoin.roomNamed', { name: room.name, code }) : t('prejoin.room', { code })}{' '}
        <button type="button" class="link" onClick={copyLink}>
          {copied ? t('prejoin.linkCopied') : t('prejoin.copyLink')}
        </button>
      </p>
      <div class="prejoin-body">
        <section class="preview" aria-label={t('prejoin.preview')}>
          {videoTrack && camOn ? (
            <Video track={videoTrack} mirrored label={t('prejoin.preview')} />
          ) : (
            <div class="preview-off">{t('prejoin.noPreview')}</div>
          )}
          <div class="preview-controls">
            <button
              type="button"
              class={`round ${micOn ? '' : 'off'}`}
              aria-pressed={!micOn}
              disabled={!audioTrack}
              aria-label={micOn ? t('meeting.micOn') : t('meeting.micOff')}
              title={micOn ? t('meeting.micOn') : t('meeting.micOff')}
              onClick={() => setMicOn(!micOn)}
            >
              <MicIcon off={!micOn || !audioTrack} />
            </button>
            <button
              type="button"
              class={`round ${camOn ? '' : 'off'}`}
              aria-pressed={!camOn}
              disabled={!videoTrack}
              aria-label={camOn ? t('meeting.camOn') : t('meeting.camOff')}
              title={camOn ? t('meeting.camOn') : t('meeting.camOff')}
              onClick={() => setCamOn(!camOn)}
            >
              <CameraIcon off={!camOn || !videoTrack} />
            </button>
          </div>
        </section>
        <p class="prejoin-check">
          <a href="/check">{t('check.link')}</a>
        </p>
        <form class="prejoin-form" onSubmit={join} noValidate>
          {deviceHint && (
            <div class="notice" role="alert">
              <p>{deviceHint}</p>
              {problem && (
                <button type="button" onClick={() => void start()}>
                  {t('prejoin.retry')}
                </button>
              )}
            </div>
          )}
          {accountName ? (
            <p class="account-name">
              {t('prejoin.joinAs')} <strong>{accountName}</strong>
              <span class="hint block">{t('prejoin.accountNameHint')}</span>
            </p>
          ) : (
            <>
              <label for="display-name">{t('prejoin.name')}</label>
              <input
                id="display-name"
                value={name}
                maxLength={64}
                autocomplete="name"
                required
                aria-invalid={nameMissing}
                aria-describedby="name-hint"
                onInput={(e) => {
                  setName((e.target as HTMLInputElement).value);
                  setNameMissing(false);
                }}
              />
              <p id="name-hint" class={nameMissing ? 'error' : 'hint'} role={nameMissing ? 'alert' : undefined}>
                {nameMissing ? t('prejoin.nameMissing') : t('prejoin.nameHint')}
              </p>
              {me?.sign_in_available && (
                <p class="hint">
                  {t('prejoin.haveAccount')} <a href={signInURL(location.pathname)}>{t('auth.signIn')}</a>
                </p>
              )}
            </>
          )}
          {devices.audio.length > 0 && (
            <>
              <label for="mic-select">{t('prejoin.microphone')}</label>
              <select id="mic-select" value={audioId} onChange={(e) => void start((e.target as HTMLSelectElement).value, videoId)}>
                {devices.audio.map((d, i) => (
                  <option value={d.deviceId}>{d.label || `${t('prejoin.microphone')} ${i + 1}`}</option>
                ))}
              </select>
            </>
          )}
          {devices.video.length > 0 && (
            <>
              <label for="camera-select">{t('prejoin.camera')}</label>
              <select id="camera-select" value={videoId} onChange={(e) => void start(audioId, (e.target as HTMLSelectElement).value)}>
                {devices.video.map((d, i) => (
                  <option value={d.deviceId}>{d.label || `${t('prejoin.camera')} ${i + 1}`}</option>
                ))}
              </select>
            </>
          )}
          <button type="submit" class="primary big">
            {t('prejoin.join')}
          </button>
        </form>
      </div>
    </main>
  );
}
