import { useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import type { Access, Publishing, RoomRules } from '../protocol';
import type { MeetingSession } from '../session';
import { Dialog } from './Dialog';

const accessLevels: { value: Access; label: MessageKey; hint: MessageKey }[] = [
  { value: 'public', label: 'settings.public', hint: 'settings.publicHint' },
  { value: 'trusted', label: 'settings.trusted', hint: 'settings.trustedHint' },
  { value: 'restricted', label: 'settings.restricted', hint: 'settings.restrictedHint' },
];

const sources: { key: keyof Publishing; label: MessageKey }[] = [
  { key: 'microphone', label: 'settings.sendMicrophone' },
  { key: 'camera', label: 'settings.sendCamera' },
  { key: 'screen', label: 'settings.sendScreen' },
];

// RoomSettings lets hosts change who enters without waiting, how many may
// be in the meeting, and what participants may send. The server tells
// everyone the new rules, and the meeting follows them.
export function RoomSettings({ session, rules, onSave, onClose }: { session: MeetingSession; rules: RoomRules; onSave: () => void; onClose: () => void }) {
  const [access, setAccess] = useState<Access>(rules.access);
  const [cap, setCap] = useState(String(rules.max_participants));
  const [publishing, setPublishing] = useState<Publishing>(rules.publishing);
  const [badCap, setBadCap] = useState(false);

  const save = (e: Event) => {
    e.preventDefault();
    const max = Number(cap);
    if (!Number.isInteger(max) || max < 0 || max > 100000) {
      setBadCap(true);
      return;
    }
    session.changeSettings({ access, max_participants: max, publishing });
    onSave();
    onClose();
  };

  return (
    <Dialog title={t('settings.title')} onClose={onClose} class="settings">
      <form onSubmit={save} noValidate>
        <fieldset>
          <legend>{t('settings.access')}</legend>
          {accessLevels.map((level) => (
            <div class="choice" key={level.value}>
              <input
                type="radio"
                id={`access-${level.value}`}
                name="access"
                value={level.value}
                checked={access === level.value}
                aria-describedby={`access-${level.value}-hint`}
                onChange={() => setAccess(level.value)}
              />
              <label for={`access-${level.value}`}>{t(level.label)}</label>
              <p id={`access-${level.value}-hint`} class="hint">
                {t(level.hint)}
              </p>
            </div>
          ))}
        </fieldset>
        <label for="max-participants">{t('settings.cap')}</label>
        <input
          id="max-participants"
          type="number"
          min={0}
          max={100000}
          inputMode="numeric"
          value={cap}
          aria-invalid={badCap}
          aria-describedby="max-participants-hint"
          onInput={(e) => {
            setCap((e.target as HTMLInputElement).value);
            setBadCap(false);
          }}
        />
        <p id="max-participants-hint" class={badCap ? 'error' : 'hint'} role={badCap ? 'alert' : undefined}>
          {badCap ? t('settings.capInvalid') : t('settings.capHint')}
        </p>
        <fieldset>
          <legend>{t('settings.publishing')}</legend>
          <p class="hint">{t('settings.publishingHint')}</p>
          {sources.map((src) => (
            <div class="choice" key={src.key}>
              <input
                type="checkbox"
                id={`publish-${src.key}`}
                checked={publishing[src.key]}
                onChange={(e) => setPublishing({ ...publishing, [src.key]: (e.target as HTMLInputElement).checked })}
              />
              <label for={`publish-${src.key}`}>{t(src.label)}</label>
            </div>
          ))}
        </fieldset>
        <div class="row dialog-actions">
          <button type="button" onClick={onClose}>
            {t('dialog.cancel')}
          </button>
          <button type="submit" class="primary">
            {t('settings.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
