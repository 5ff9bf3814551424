import { useRef, useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import type { Participant } from '../protocol';
import { handRanks, isHost } from '../meetingstate';
import type { MeetingSession } from '../session';
import { Confirm } from './Dialog';
import { CameraIcon, MicIcon } from './icons';
import { Panel } from './Panel';

export const participantsPanelId = 'participants-panel';

// Person is one line of the panel: someone in the meeting as the panel
// shows them.
interface Person {
  p: Participant;
  self: boolean;
  micOn: boolean;
  cameraOn: boolean;
  sharing: boolean;
}

interface Action {
  label: MessageKey;
  run: () => void;
  confirm?: { title: MessageKey; text: MessageKey; button: MessageKey };
}

interface Asking {
  title: string;
  text: string;
  button: string;
  run: () => void;
}

function live(p: Participant, source: 'microphone' | 'camera' | 'screen') {
  const track = p.tracks.find((tr) => tr.source === source);
  return !!track && !track.muted;
}

const roleKey: Record<string, MessageKey> = { owner: 'people.owner', administrator: 'people.administrator' };

// folded is a name as the search compares it: without accents and case, so
// that "eloise" finds "Éloïse".
export function folded(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

// SpeakingIcon is three bars that move while someone speaks; screen readers
// get the words instead.
function SpeakingIcon() {
  return (
    <span class="speaking-icon" aria-hidden="true">
      <span />
      <span />
      <span />
    </span>
  );
}

// ParticipantsPanel lists everyone in the meeting with their role and what
// they send. Hosts get, for each person, what they may do to them, and for
// the meeting, muting everyone and ending it for all.
export function ParticipantsPanel({ session, onClose }: { session: MeetingSession; onClose: () => void }) {
  const s = session.state;
  const host = isHost(s.self);
  const pinned = s.rules?.pinned;
  const [open, setOpen] = useState<string | null>(null); // whose actions are shown
  const [asking, setAsking] = useState<Asking | null>(null);
  const [query, setQuery] = useState('');
  // Folded names, worked out once per name rather than on every update of
  // who speaks (several a second), which re-renders the whole list.
  const foldedNames = useRef(new Map<string, string>());
  const foldedName = (name: string) => {
    let f = foldedNames.current.get(name);
    if (f === undefined) {
      f = folded(name);
      foldedNames.current.set(name, f);
    }
    return f;
  };

  const people: Person[] = [];
  if (s.self) people.push({ p: s.self, self: true, micOn: !s.micMuted && !!s.local.microphone, cameraOn: s.cameraOn, sharing: s.sharing });
  for (const p of s.others) people.push({ p, self: false, micOn: live(p, 'microphone'), cameraOn: live(p, 'camera'), sharing: live(p, 'screen') });

  // Raised hands first, in the order they were raised.
  const hands = handRanks(people.map((person) => person.p));
  people.sort((a, b) => (hands.get(a.p.id) ?? Infinity) - (hands.get(b.p.id) ?? Infinity));
  const speaking = new Set(s.speakers.speaking);
  const wanted = folded(query.trim());
  const shown = wanted ? people.filter((person) => foldedName(person.p.name).includes(wanted)) : people;

  const actionsFor = (person: Person): Action[] => {
    const { p } = person;
    const id = p.id;
    const out: Action[] = [];
    if (hands.has(id)) out.push({ label: 'people.lowerHand', run: () => session.moderate({ action: 'lower_hand', participant: id }) });
    if (!person.self) {
      if (person.micOn) out.push({ label: 'people.mute', run: () => session.moderate({ action: 'mute', participant: id, source: 'microphone' }) });
      if (person.cameraOn) out.push({ label: 'people.stopCamera', run: () => session.moderate({ action: 'stop', participant: id, source: 'camera' }) });
      if (person.sharing) out.push({ label: 'people.stopScreen', run: () => session.moderate({ action: 'stop', participant: id, source: 'screen' }) });
    }
    if (pinned === id) out.push({ label: 'people.unpin', run: () => session.moderate({ action: 'pin' }) });
    else out.push({ label: 'people.pin', run: () => session.moderate({ action: 'pin', participant: id }) });
    if (!person.self && p.role !== 'owner') {
      if (p.signed_in) {
        if (p.role === 'administrator') out.push({ label: 'people.demote', run: () => session.moderate({ action: 'role', participant: id, role: 'member' }) });
        else out.push({ label: 'people.promote', run: () => session.moderate({ action: 'role', participant: id, role: 'administrator' }) });
      }
      out.push({ label: 'people.remove', run: () => session.moderate({ action: 'remove', participant: id }) });
      out.push({
        label: 'people.ban',
        run: () => session.moderate({ action: 'remove', participant: id, ban: true }),
        confirm: { title: 'people.banTitle', text: 'people.banText', button: 'people.ban' },
      });
    }
    return out;
  };

  // After an action its button may be gone (the microphone is muted): focus
  // goes back to the person's Actions button, which stays.
  const done = (id: string) => {
    setOpen(null);
    requestAnimationFrame(() => document.getElementById(`actions-${id}`)?.focus());
  };

  return (
    <Panel id={participantsPanelId} title={t('people.title', { count: people.length })} onClose={onClose}>
      {host && (
        <div class="panel-tools">
          <button
            type="button"
            onClick={() =>
              setAsking({ title: t('people.muteAllTitle'), text: t('people.muteAllText'), button: t('people.muteAll'), run: () => session.moderate({ action: 'mute_all' }) })
            }
          >
            {t('people.muteAll')}
          </button>
          {hands.size > 0 && (
            <button type="button" onClick={() => session.moderate({ action: 'lower_hand' })}>
              {t('people.lowerHands')}
            </button>
          )}
          <button
            type="button"
            class="danger-outline"
            onClick={() => setAsking({ title: t('people.endTitle'), text: t('people.endText'), button: t('people.end'), run: () => session.moderate({ action: 'end' }) })}
          >
            {t('people.end')}
          </button>
        </div>
      )}
      <div class="people-search">
        <label for="people-search">{t('people.search')}</label>
        <input
          id="people-search"
          type="search"
          value={query}
          autocomplete="off"
          spellcheck={false}
          aria-describedby={wanted ? 'people-search-result' : undefined}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            // Escape clears the search; only an empty field lets it close the panel.
            if (e.key === 'Escape' && query) {
              e.preventDefault();
              e.stopPropagation();
              setQuery('');
            }
          }}
        />
        {/* Said after typing, as the list changes under the field. */}
        <p id="people-search-result" class="people-search-result" role="status">
          {wanted &&
            (shown.length === 0
              ? t('people.matchNone', { query: query.trim() })
              : shown.length === 1
                ? t('people.matchOne')
                : t('people.matchMany', { count: shown.length }))}
        </p>
        {wanted && shown.length === 0 && (
          <button
            type="button"
            class="small"
            onClick={() => {
              setQuery('');
              document.getElementById('people-search')?.focus();
            }}
          >
            {t('people.clearSearch')}
          </button>
        )}
      </div>
      <ul class="people">
        {shown.map((person) => {
          const { p } = person;
          const name = person.self ? `${p.name} (${t('meeting.you')})` : p.name;
          const actions = host ? actionsFor(person) : [];
          const expanded = open === p.id;
          const talking = speaking.has(p.id);
          return (
            <li key={p.id} class={`person ${talking ? 'speaking' : ''}`} data-participant={p.id}>
              <span class="person-name">{name}</span>
              {talking && <span class="sr-only">, {t('meeting.speaking')}</span>}
              {talking && <SpeakingIcon />}
              {p.role && roleKey[p.role] && <span class="badge role">{t(roleKey[p.role]!)}</span>}
              {!p.signed_in && session.signInAvailable && <span class="badge">{t('people.guest')}</span>}
              {pinned === p.id && <span class="badge pinned">{t('people.pinned')}</span>}
              {hands.has(p.id) && <span class="badge hand">{t('people.hand', { rank: String(hands.get(p.id)) })}</span>}
              <span class="person-state">
                <span role="img" aria-label={person.micOn ? t('people.micOn') : t('meeting.muted')} class={person.micOn ? '' : 'off'}>
                  <MicIcon off={!person.micOn} />
                </span>
                <span role="img" aria-label={person.cameraOn ? t('people.cameraOn') : t('meeting.cameraOff')} class={person.cameraOn ? '' : 'off'}>
                  <CameraIcon off={!person.cameraOn} />
                </span>
              </span>
              {actions.length > 0 && (
                <>
                  <button
                    type="button"
                    class="small"
                    id={`actions-${p.id}`}
                    aria-expanded={expanded}
                    aria-controls={`actions-list-${p.id}`}
                    onClick={() => setOpen(expanded ? null : p.id)}
                  >
                    {t('people.actions')}
                    <span class="sr-only"> ({name})</span>
                  </button>
                  {expanded && (
                    <ul id={`actions-list-${p.id}`} class="person-actions-list" aria-label={t('people.actionsOf', { name })}>
                      {actions.map((a) => (
                        <li key={a.label}>
                          <button
                            type="button"
                            class={`small ${a.confirm ? 'danger-outline' : ''}`}
                            aria-label={t('people.actionFor', { action: t(a.label), name: p.name })}
                            onClick={() => {
                              if (a.confirm) {
                                setAsking({ title: t(a.confirm.title, { name: p.name }), text: t(a.confirm.text, { name: p.name }), button: t(a.confirm.button), run: a.run });
                                return;
                              }
                              a.run();
                              done(p.id);
                            }}
                          >
                            {t(a.label)}
                          </button>
                        </li>
                      ))}
                    </ul>
                  )}
                </>
              )}
            </li>
          );
        })}
      </ul>
      {asking && <Confirm title={asking.title} text={asking.text} confirm={asking.button} onConfirm={asking.run} onClose={() => setAsking(null)} />}
    </Panel>
  );
}
