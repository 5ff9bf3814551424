import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { MeetingSession } from '../session';
import { PreJoin, type JoinRequest } from './PreJoin';
import { Meeting } from './Meeting';
import { Waiting } from './Waiting';
import { Ended } from './Ended';

// Room walks through the life of a visit: pre-join, the lobby when the room
// makes guests wait, the meeting, and the screen after leaving (or instead
// of entering), from which one can join again.
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
    const name = session?.state.room?.name;
    document.title = session && !session.state.ended ? `${name || t('meeting.title', { code })} · Visio` : 'Visio';
  });

  if (!session) {
    return <PreJoin code={code} onJoin={(r: JoinRequest) => setSession(new MeetingSession(code, r.name, r.media, r.signInAvailable))} />;
  }
  const { ended, self, waiting } = session.state;
  if (ended) return <Ended ended={ended} wasIn={self !== null} onRejoin={() => setSession(null)} />;
  if (!self && waiting) return <Waiting code={code} session={session} onCancel={() => setSession(null)} />;
  return <Meeting code={code} session={session} />;
}
