import { useEffect, useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { MeetingSession } from '../session';
import { navigate } from '../router';
import { PreJoin, type JoinRequest } from './PreJoin';
import { Meeting } from './Meeting';

// Room walks through the life of a visit: pre-join, meeting, and the screen
// after leaving, from which one can join again.
export function Room({ code }: { code: string }) {
  const [session, setSession] = useState<MeetingSession | null>(null);
  const [, setVersion] = useState(0);

  useEffect(() => {
    if (!session) return;
    const unsubscribe = session.subscribe(() => setVersion((v) => v + 1));
    const leaveOnClose = () => session.leave();
    addEventListener('pagehide', leaveOnClose);
    return () => {
      unsubscribe();
      removeEventListener('pagehide', leaveOnClose);
      session.leave();
    };
  }, [session]);

  useEffect(() => {
    document.title = session && !session.state.ended ? `${t('meeting.title', { code })} · Visio` : 'Visio';
  });

  if (!session) {
    return <PreJoin code={code} onJoin={(r: JoinRequest) => setSession(new MeetingSession(code, r.name, r.media))} />;
  }
  const ended = session.state.ended;
  if (!ended) return <Meeting code={code} session={session} />;

  const key = `ended.${ended.reason}` as MessageKey;
  const known = ended.reason !== 'left' && t(key) !== key;
  return (
    <main class="page narrow ended">
      <h1>{t('ended.title')}</h1>
      {ended.reason !== 'left' && (
        <p role="alert">{known ? t(key) : t('ended.error', { message: ended.message ?? ended.reason })}</p>
      )}
      <div class="row">
        <button type="button" class="primary" onClick={() => setSession(null)}>
          {t('ended.rejoin')}
        </button>
        <button type="button" onClick={() => navigate('/')}>
          {t('ended.home')}
        </button>
      </div>
    </main>
  );
}
