import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { play } from '../sounds';
import type { MeetingSession } from '../session';
import { Panel } from './Panel';

export const lobbyPanelId = 'lobby-panel';

// LobbyButton opens the lobby panel, with a badge of how many wait. Each
// knock rings; data-knocks counts the knocks rung, so that tests can tell
// that the sound played.
export function LobbyButton({ session, expanded, onToggle }: { session: MeetingSession; expanded: boolean; onToggle: () => void }) {
  const waiting = session.state.lobby.length;
  const knocks = session.state.knocks.count;
  const [rung, setRung] = useState(0);
  const heard = useRef(knocks); // knocks from before this button existed are not rung late
  useEffect(() => {
    if (knocks <= heard.current) return;
    heard.current = knocks;
    void play('knock').then((played) => {
      if (played) setRung((n) => n + 1);
    });
  }, [knocks]);
  return (
    <button
      type="button"
      class={`tool ${expanded ? 'active' : ''}`}
      aria-label={waiting > 0 ? `${t('lobby.title')}, ${waiting === 1 ? t('lobby.oneWaiting') : t('lobby.manyWaiting', { count: waiting })}` : undefined}
      aria-expanded={expanded}
      aria-controls={expanded ? lobbyPanelId : undefined}
      data-knocks={rung}
      onClick={onToggle}
    >
      {t('lobby.title')}
      {/* The count is a word of its own, as in the label (WCAG 2.5.3). */}
      {' '}
      {waiting > 0 && (
        <span class="badge count-badge" aria-hidden="true">
          {waiting}
        </span>
      )}
    </button>
  );
}

// LobbyPanel lists who waits to enter, in order of arrival, for hosts to let
// them in or send them away.
export function LobbyPanel({ session, onClose }: { session: MeetingSession; onClose: () => void }) {
  const waiting = session.state.lobby;
  return (
    <Panel id={lobbyPanelId} title={t('lobby.title')} onClose={onClose}>
      {waiting.length === 0 ? (
        <p class="panel-empty">{t('lobby.empty')}</p>
      ) : (
        <>
          <button type="button" class="light-primary" onClick={() => session.admitAll()}>
            {t('lobby.admitAll')}
          </button>
          <ul class="people">
            {waiting.map((v) => (
              <li key={v.id} class="person">
                <span class="person-name">{v.name}</span>
                {!v.signed_in && session.signInAvailable && <span class="badge">{t('people.guestLower')}</span>}
                <div class="row person-actions">
                  <button type="button" class="small light-primary" aria-label={t('people.actionFor', { action: t('lobby.admit'), name: v.name })} onClick={() => session.admit(v.id)}>
                    {t('lobby.admit')}
                  </button>
                  <button type="button" class="small" aria-label={t('people.actionFor', { action: t('lobby.deny'), name: v.name })} onClick={() => session.deny(v.id)}>
                    {t('lobby.deny')}
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </Panel>
  );
}
