import { useEffect, useRef } from 'preact/hooks';
import { clockTime } from '../chat';
import { t, type MessageKey } from '../i18n';
import type { SpeechStatus } from '../protocol';

// TranscribingBadge tells everyone, for as long as it lasts, that what they
// say is being written down: their consent depends on knowing it.
export function TranscribingBadge({ since }: { since?: number }) {
  return (
    <span class="transcribing" title={t('speech.transcribingHint')}>
      <span class="rec-dot" aria-hidden="true" />
      {transcribingText(since)}
    </span>
  );
}

// transcribingText says that transcription runs, and since when if known.
export function transcribingText(since?: number): string {
  return since ? t('speech.transcribingSince', { time: clockTime(since) }) : t('speech.transcribing');
}

// useSpeechNotices has screen readers told when transcription starts or
// stops (and that it runs, on arriving while it does) and when captions
// become available or go; hosts get a toast when a transcript is ready.
export function useSpeechNotices(speech: SpeechStatus | null, host: boolean, announce: (text: string) => void, toast: (key: MessageKey) => void) {
  const last = useRef<SpeechStatus | null>(null);
  useEffect(() => {
    const before = last.current;
    last.current = speech;
    if (!speech) return;
    const said: MessageKey[] = [];
    if (!before) {
      if (speech.transcribing) said.push('speech.transcriptionRunning');
    } else {
      if (speech.transcribing !== before.transcribing) said.push(speech.transcribing ? 'speech.transcriptionStarted' : 'speech.transcriptionStopped');
      if (speech.captions !== before.captions) said.push(speech.captions ? 'speech.captionsStarted' : 'speech.captionsStopped');
      if (host && speech.transcript && speech.transcript !== before.transcript) toast('speech.transcriptReady');
    }
    if (said.length > 0) announce(said.map((key) => t(key)).join(' '));
  }, [speech]);
}
