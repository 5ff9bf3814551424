import { useEffect, useState } from 'preact/hooks';
import { addCaption, expireCaptions, isFading, nextCaptionChange, type CaptionLine } from '../captions';
import { t } from '../i18n';
import type { MeetingSession } from '../session';

// Finals kept for screen readers, who may read back the last few.
const spokenFinals = 5;

interface Spoken {
  key: string;
  text: string;
}

// Captions shows the last few things said, over the bottom of the meeting,
// while it is rendered. Partial text changes in place and looks
// provisional; screen readers hear finals only, since partials would make
// them repeat every sentence a word at a time.
export function Captions({ session }: { session: MeetingSession }) {
  const [lines, setLines] = useState<CaptionLine[]>([]);
  const [spoken, setSpoken] = useState<Spoken[]>([]);
  const [now, setNow] = useState(Date.now());

  useEffect(
    () =>
      session.onCaption((c) => {
        const at = Date.now();
        setNow(at);
        setLines((ls) => addCaption(expireCaptions(ls, at), c, at));
        const text = c.text.trim();
        if (!c.final || !text) return;
        const said = t('captions.said', { name: c.name, text });
        const line = { key: `${c.participant}:${c.utterance}`, text: c.missed ? `${t('captions.behind')} ${said}` : said };
        setSpoken((sp) => [...sp, line].slice(-spokenFinals));
      }),
    [session],
  );

  // Wake up when a line starts fading or goes.
  useEffect(() => {
    const next = nextCaptionChange(lines, now);
    if (next === null) return;
    const timer = setTimeout(() => {
      const at = Date.now();
      setNow(at);
      setLines((ls) => expireCaptions(ls, at));
    }, Math.max(0, next - now));
    return () => clearTimeout(timer);
  }, [lines, now]);

  return (
    <section class="captions" aria-label={t('captions.region')}>
      <ol class="caption-lines" aria-hidden="true">
        {lines.map((l) => (
          <li key={l.key} class={`caption-line ${l.final ? 'final' : 'partial'} ${isFading(l, now) ? 'fading' : ''}`} data-participant={l.participant}>
            <span class="caption-name">{l.name}</span>
            {l.missed > 0 && <span class="caption-missed">{t('captions.behind')}</span>}
            <span class="caption-text">{l.text}</span>
          </li>
        ))}
      </ol>
      <div class="sr-only" aria-live="polite" aria-relevant="additions">
        {spoken.map((sp) => (
          <p key={sp.key}>{sp.text}</p>
        ))}
      </div>
    </section>
  );
}
