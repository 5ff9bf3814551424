import { useEffect, useRef } from 'preact/hooks';
import type { Source, ViewedTrack } from '../protocol';
import type { MeetingSession } from '../session';

// streamOf keeps one MediaStream per track, so that re-renders do not
// restart playback.
const streams = new WeakMap<MediaStreamTrack, MediaStream>();
function streamOf(track: MediaStreamTrack): MediaStream {
  let s = streams.get(track);
  if (!s) {
    s = new MediaStream([track]);
    streams.set(track, s);
  }
  return s;
}

// VideoOf names a remote video: whose, and which source. The meeting reports
// the size of such videos to the server (useViewReport).
export interface VideoOf {
  participant: string;
  source: Source;
}

export function Video({ track, mirrored, label, class: cls, of }: { track: MediaStreamTrack; mirrored?: boolean; label: string; class?: string; of?: VideoOf }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (v && v.srcObject !== streamOf(track)) {
      v.srcObject = streamOf(track);
      v.play().catch(() => {}); // autoplay is allowed after the user's click on Join
    }
  }, [track]);
  return (
    <video
      ref={ref}
      class={`${cls ?? ''}${mirrored ? ' mirrored' : ''}`}
      autoplay
      playsInline
      muted
      aria-label={label}
      data-participant={of?.participant}
      data-source={of?.source}
    />
  );
}

// Audio plays a remote audio track; it has no visible element.
export function Audio({ track, participant }: { track: MediaStreamTrack; participant: string }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const a = ref.current;
    if (a && a.srcObject !== streamOf(track)) {
      a.srcObject = streamOf(track);
      a.play().catch(() => {});
    }
  }, [track]);
  return <audio ref={ref} autoplay data-participant={participant} />;
}

// viewChanged tells useViewReport that a video outside the meeting's body
// changed: the picture-in-picture window opened, closed or changed track.
export const viewChanged = () => dispatchEvent(new Event('visio:viewchanged'));

// Height asked for the video of the picture-in-picture window, which is
// small and whose size the page does not see: the middle layer.
const pipHeight = 360;

// useViewReport watches the remote videos inside the returned element and
// tells the server, shortly after the layout settles, which are shown and
// how large they are in device pixels, with the picture-in-picture one.
export function useViewReport(session: MeetingSession) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const videos = () => [...root.querySelectorAll<HTMLVideoElement>('video[data-source]')];
    const report = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const ratio = window.devicePixelRatio || 1;
        // A video shown twice (a pinned camera, on the stage and in its
        // tile) is reported once, at its larger size.
        const tracks = new Map<string, ViewedTrack>();
        for (const v of videos()) {
          const box = v.getBoundingClientRect();
          if (box.width === 0 || box.height === 0) continue;
          const seen: ViewedTrack = {
            participant: v.dataset.participant!,
            source: v.dataset.source as Source,
            width: Math.round(box.width * ratio),
            height: Math.round(box.height * ratio),
          };
          const key = `${seen.participant}/${seen.source}`;
          const other = tracks.get(key);
          if (!other || other.height < seen.height) tracks.set(key, seen);
        }
        const pip = document.pictureInPictureElement;
        const pipOf = pip instanceof HTMLVideoElement ? pip.dataset.pipParticipant : undefined;
        if (pipOf && !tracks.has(`${pipOf}/camera`)) tracks.set(`${pipOf}/camera`, { participant: pipOf, source: 'camera', width: (pipHeight * 16) / 9, height: pipHeight });
        session.setView([...tracks.values()]);
      }, 200);
    };
    const sizes = new ResizeObserver(report);
    const observeAll = () => {
      sizes.disconnect();
      videos().forEach((v) => sizes.observe(v));
      report();
    };
    const changes = new MutationObserver(observeAll);
    changes.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-source'] });
    observeAll();
    addEventListener('visio:viewchanged', report);
    return () => {
      removeEventListener('visio:viewchanged', report);
      clearTimeout(timer);
      sizes.disconnect();
      changes.disconnect();
    };
  }, [session]);
  return ref;
}
