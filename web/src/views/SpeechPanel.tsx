import { useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { speechLanguages, type EngineState, type SpeechLanguage, type SpeechStatus } from '../protocol';
import type { MeetingSession } from '../session';
import { transcribingText } from './Consent';
import { Confirm } from './Dialog';
import { Panel } from './Panel';
import { Transcripts, languageName } from './Transcripts';

export const speechPanelId = 'speech-panel';

const engineStateKey: Record<EngineState, MessageKey> = {
  ok: 'speech.engineOk',
  degraded: 'speech.engineDegraded',
  down: 'speech.engineDown',
};

// SpeechPanel is where hosts turn the room's captions and transcription on
// and off, choose the language spoken, see whether the speech engine works,
// and download the transcripts. When the server has no working engine the
// controls are off and the panel says what an operator has to configure;
// what is running can still be stopped.
export function SpeechPanel({ session, code, onClose }: { session: MeetingSession; code: string; onClose: () => void }) {
  const speech = session.state.speech;
  const [confirming, setConfirming] = useState(false);
  return (
    <Panel id={speechPanelId} title={t('speech.title')} onClose={onClose}>
      {speech ? <SpeechControls session={session} speech={speech} onStart={() => setConfirming(true)} /> : <p class="panel-empty">{t('speech.waiting')}</p>}
      {speech && <Transcripts code={code} latest={speech.transcript} transcribing={speech.transcribing} />}
      {confirming && (
        <Confirm
          title={t('speech.startTitle')}
          text={t('speech.startText')}
          confirm={t('speech.transcriptionStart')}
          onConfirm={() => session.controlSpeech({ transcribe: true })}
          onClose={() => setConfirming(false)}
        />
      )}
    </Panel>
  );
}

function SpeechControls({ session, speech, onStart }: { session: MeetingSession; speech: SpeechStatus; onStart: () => void }) {
  const off = !speech.available;
  const why = off ? { 'aria-describedby': 'speech-unavailable' } : {};
  const engine = speech.engine;
  return (
    <>
      {off && (
        <div id="speech-unavailable" class="panel-notice">
          <p>{t('speech.unavailable')}</p>
          {speech.reason && <p class="speech-reason">{speech.reason}</p>}
        </div>
      )}
      {engine && (
        <div class="engine">
          <p>
            {t('speech.engine', { name: engine.name })} <span class={`badge engine-${engine.state}`}>{t(engineStateKey[engine.state] ?? 'speech.engineDown')}</span>
          </p>
          {engine.detail && <p class="hint">{engine.detail}</p>}
        </div>
      )}

      <div class="speech-field">
        <label for="speech-language">{t('speech.language')}</label>
        <select
          id="speech-language"
          value={speech.language}
          disabled={off}
          aria-describedby={off ? 'speech-unavailable' : 'speech-language-hint'}
          onChange={(e) => session.controlSpeech({ language: (e.target as HTMLSelectElement).value as SpeechLanguage })}
        >
          {speechLanguages.map((l) => (
            <option key={l} value={l} lang={l}>
              {languageName(l)}
            </option>
          ))}
        </select>
        <p id="speech-language-hint" class="hint">
          {t('speech.languageHint')}
        </p>
      </div>

      <section class="speech-part" aria-labelledby="speech-captions-title">
        <h3 id="speech-captions-title">{t('speech.captionsTitle')}</h3>
        <p>{speech.captions ? t('speech.captionsOnState') : t('speech.captionsOffState')}</p>
        <button type="button" disabled={off && !speech.captions} {...why} onClick={() => session.controlSpeech({ captions: !speech.captions })}>
          {speech.captions ? t('speech.captionsStop') : t('speech.captionsStart')}
        </button>
      </section>

      <section class="speech-part" aria-labelledby="speech-transcription-title">
        <h3 id="speech-transcription-title">{t('speech.transcriptionTitle')}</h3>
        <p>{speech.transcribing ? transcribingText(speech.transcribing_since) : t('speech.transcriptionOffState')}</p>
        {speech.transcribing ? (
          <button type="button" class="danger-outline" onClick={() => session.controlSpeech({ transcribe: false })}>
            {t('speech.transcriptionStop')}
          </button>
        ) : (
          <button type="button" disabled={off} {...why} onClick={onStart}>
            {t('speech.transcriptionStart')}
          </button>
        )}
      </section>
    </>
  );
}
