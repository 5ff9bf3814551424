import { useEffect, useState } from 'preact/hooks';
import { ApiError, listTranscripts, transcriptURL, type TranscriptFormat, type TranscriptInfo } from '../api';
import { clockTime } from '../chat';
import { lang, t, type MessageKey } from '../i18n';
import { speechLanguages, type SpeechLanguage } from '../protocol';

const formats: { format: TranscriptFormat; label: MessageKey }[] = [
  { format: 'md', label: 'transcripts.md' },
  { format: 'vtt', label: 'transcripts.vtt' },
  { format: 'srt', label: 'transcripts.srt' },
  { format: 'json', label: 'transcripts.json' },
];

const languageKey: Record<SpeechLanguage, MessageKey> = {
  fr: 'speech.lang.fr',
  en: 'speech.lang.en',
  de: 'speech.lang.de',
  nl: 'speech.lang.nl',
};

// languageName is a language's name in itself (Deutsch, Nederlands), as
// its speakers look for it.
export function languageName(l: SpeechLanguage): string {
  return t(languageKey[l]);
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang(), { dateStyle: 'short', timeStyle: 'short' });
}

// until gives a transcript's end, without its date when it ended on the day
// it started.
function until(startISO: string, endISO: string): string {
  const start = new Date(startISO);
  const end = new Date(endISO);
  if (Number.isNaN(end.getTime())) return endISO;
  return start.toDateString() === end.toDateString() ? clockTime(end.getTime()) : when(endISO);
}

function languageLabel(code: string): string {
  return speechLanguages.includes(code as SpeechLanguage) ? languageName(code as SpeechLanguage) : code;
}

// Transcripts lists the room's transcripts with their downloads, for hosts.
// It asks the server again whenever the meeting's latest transcript or the
// transcription's state changes, so that a transcript just finished shows.
export function Transcripts({ code, latest, transcribing }: { code: string; latest?: string; transcribing: boolean }) {
  const [list, setList] = useState<TranscriptInfo[] | null>(null);
  const [problem, setProblem] = useState<MessageKey | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true; // an answer to an older request must not win
    listTranscripts(code).then(
      (transcripts) => {
        if (!current) return;
        setList(transcripts);
        setProblem(null);
      },
      (err) => {
        if (current) setProblem(err instanceof ApiError && err.status === 403 ? 'transcripts.forbidden' : 'transcripts.loadFailed');
      },
    );
    return () => {
      current = false;
    };
  }, [code, latest, transcribing, attempt]);

  return (
    <section class="transcripts" aria-labelledby="transcripts-title">
      <h3 id="transcripts-title">{t('transcripts.title')}</h3>
      {problem ? (
        <>
          <p class="error" role="alert">
            {t(problem)}
          </p>
          {problem === 'transcripts.loadFailed' && (
            <button type="button" class="small" onClick={() => setAttempt((n) => n + 1)}>
              {t('ended.retry')}
            </button>
          )}
        </>
      ) : list === null ? (
        <p class="panel-empty">{t('transcripts.loading')}</p>
      ) : list.length === 0 ? (
        <p class="panel-empty">{t('transcripts.none')}</p>
      ) : (
        <ul class="transcript-list">
          {list.map((tr) => {
            const started = when(tr.started_at);
            const segments = tr.segments === 1 ? t('transcripts.segment') : t('transcripts.segments', { count: tr.segments });
            const by = tr.started_by ? t('transcripts.by', { name: tr.started_by }) : '';
            return (
              <li key={tr.id} class="transcript" data-transcript={tr.id}>
                <span class="transcript-when">{tr.ended_at ? t('transcripts.span', { start: started, end: until(tr.started_at, tr.ended_at) }) : t('transcripts.running', { start: started })}</span>
                <span class="hint">{[segments, languageLabel(tr.language), by].filter(Boolean).join(' · ')}</span>
                {tr.ended_at ? (
                  <span class="row transcript-downloads">
                    <span aria-hidden="true">{t('transcripts.download')}</span>
                    {formats.map((f) => (
                      <a key={f.format} href={transcriptURL(code, tr.id, f.format)} download>
                        {t(f.label)}
                        <span class="sr-only"> {t('transcripts.downloadOf', { start: started })}</span>
                      </a>
                    ))}
                  </span>
                ) : (
                  <span class="hint">{t('transcripts.afterStop')}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
