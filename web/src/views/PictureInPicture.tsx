import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import type { MeetingState } from '../meetingstate';
import type { MeetingSession } from '../session';
import { viewChanged } from './media';

// Picture-in-picture keeps the person speaking in a small window of its own,
// over the other applications, while the user works elsewhere. The window
// shows a <video> that is not in the page's layout: the meeting's tiles stay
// as they are, and the video switches track when someone else speaks, in
// the same window.

// The speaker shown: a remote participant and their camera's track.
interface Shown {
  id: string;
  track: MediaStreamTrack;
}

// cameraOf is the camera track a participant sends, if it is live.
function cameraOf(s: MeetingState, id: string): MediaStreamTrack | undefined {
  const p = s.others.find((o) => o.id === id);
  const published = p?.tracks.find((tr) => tr.source === 'camera');
  if (!published || published.muted) return undefined;
  const track = s.media.get(id)?.camera;
  return track && track.readyState === 'live' ? track : undefined;
}

// pickSpeaker chooses whom to show: the active speaker if their camera is
// on; else whoever was shown, so that the window does not jump about when
// the speaker has no camera or is the user; else anyone speaking with a
// camera; else the first remote camera.
export function pickSpeaker(s: MeetingState, previous: string): Shown | null {
  for (const id of [s.speakers.active, previous, ...s.speakers.speaking]) {
    const track = id ? cameraOf(s, id) : undefined;
    if (track) return { id, track };
  }
  for (const p of s.others) {
    const track = cameraOf(s, p.id);
    if (track) return { id: p.id, track };
  }
  return null;
}

// supported: the browser has the API and lets this page use it (a
// permissions policy or the user's settings may forbid it).
function supported(): boolean {
  return 'pictureInPictureEnabled' in document && document.pictureInPictureEnabled && 'requestPictureInPicture' in HTMLVideoElement.prototype;
}

// Chrome calls this media session action to open picture-in-picture by
// itself when a video call's tab is hidden; not every browser knows it,
// nor TypeScript's types.
const autoAction = 'enterpictureinpicture' as MediaSessionAction;

function setAutoHandler(handler: MediaSessionActionHandler | null) {
  try {
    navigator.mediaSession?.setActionHandler(autoAction, handler);
  } catch {
    // an action the browser does not know: no automatic picture-in-picture
  }
}

// PictureInPictureButton opens and closes the speaker's picture-in-picture
// window. It renders nothing where the browser has no picture-in-picture.
export function PictureInPictureButton({ session }: { session: MeetingSession }) {
  if (!supported()) return null;
  return <PictureInPicture session={session} />;
}

function PictureInPicture({ session }: { session: MeetingSession }) {
  const s = session.state;
  const video = useRef<HTMLVideoElement>(null);
  const last = useRef('');
  const auto = useRef(false); // opened because the tab was hidden, not by the user
  const [open, setOpen] = useState(false);
  const shown = s.ended ? null : pickSpeaker(s, last.current);
  last.current = shown?.id ?? '';
  const track = shown?.track;

  // The video plays the chosen track; while the window is open, a new
  // speaker comes into it without closing it.
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    if (!track) {
      if (document.pictureInPictureElement === v) void document.exitPictureInPicture().catch(() => {});
      v.srcObject = null;
      return;
    }
    const current = v.srcObject instanceof MediaStream ? v.srcObject.getVideoTracks()[0] : undefined;
    if (current === track) return;
    v.srcObject = new MediaStream([track]);
    v.play().catch(() => {}); // muted, and after the click on Join: allowed
    if (document.pictureInPictureElement === v) viewChanged();
  }, [track]);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const enter = async () => {
      if (document.pictureInPictureElement === v || !v.srcObject) return;
      await v.requestPictureInPicture();
    };
    const onEnter = () => {
      setOpen(true);
      viewChanged(); // its video must be sent even if no tile shows it
    };
    const onLeave = () => {
      auto.current = false;
      setOpen(false);
      viewChanged();
    };
    // Without a user gesture the browser may refuse: nothing to tell the
    // user, who did not ask.
    const enterAuto = () =>
      enter().then(
        () => (auto.current = true),
        () => {},
      );
    const onVisibility = () => {
      if (document.hidden) {
        if (document.pictureInPictureElement !== v) enterAuto();
      } else if (auto.current && document.pictureInPictureElement === v) {
        void document.exitPictureInPicture().catch(() => {});
      }
    };
    v.addEventListener('enterpictureinpicture', onEnter);
    v.addEventListener('leavepictureinpicture', onLeave);
    document.addEventListener('visibilitychange', onVisibility);
    setAutoHandler(enterAuto);
    return () => {
      v.removeEventListener('enterpictureinpicture', onEnter);
      v.removeEventListener('leavepictureinpicture', onLeave);
      document.removeEventListener('visibilitychange', onVisibility);
      setAutoHandler(null);
      // Leaving the meeting closes the window with it.
      if (document.pictureInPictureElement === v) void document.exitPictureInPicture().catch(() => {});
    };
  }, []);

  const toggle = async () => {
    const v = video.current;
    if (!v) return;
    auto.current = false;
    try {
      if (document.pictureInPictureElement === v) await document.exitPictureInPicture();
      else {
        // The browser refuses a video that has no picture yet: a track just
        // switched in needs a moment, well within the click's activation.
        if (v.readyState < HTMLMediaElement.HAVE_METADATA) {
          await new Promise((ok) => {
            v.addEventListener('loadedmetadata', ok, { once: true });
            setTimeout(ok, 3000);
          });
        }
        await v.requestPictureInPicture();
      }
    } catch (err) {
      console.warn('visio: picture-in-picture', err);
    }
  };

  const label = t('pip.button');
  return (
    <>
      {/* Not in the layout; shown only in the picture-in-picture window. */}
      <video ref={video} class="pip-video" muted playsInline autoplay aria-hidden="true" tabIndex={-1} data-pip-participant={shown?.id} />
      {track && (
        <button type="button" class={`tool ${open ? 'active' : ''}`} aria-pressed={open} aria-label={label} title={label} onClick={() => void toggle()}>
          <PictureInPictureIcon />
        </button>
      )}
    </>
  );
}

function PictureInPictureIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
      <rect x="2" y="4" width="20" height="16" rx="2" />
      <rect x="12" y="12" width="7" height="5" rx="1" fill="currentColor" />
    </svg>
  );
}
