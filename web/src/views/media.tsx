import { useEffect, useRef } from 'preact/hooks';

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

export function Video({ track, mirrored, label, class: cls }: { track: MediaStreamTrack; mirrored?: boolean; label: string; class?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (v && v.srcObject !== streamOf(track)) {
      v.srcObject = streamOf(track);
      v.play().catch(() => {}); // autoplay is allowed after the user's click on Join
    }
  }, [track]);
  return <video ref={ref} class={`${cls ?? ''}${mirrored ? ' mirrored' : ''}`} autoplay playsInline muted aria-label={label} />;
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
