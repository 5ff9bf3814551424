import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import type { MeetingSession } from '../session';
import { Video } from './media';

// Waiting is the lobby as the person in it sees it: until a host lets them
// in (the meeting then opens without a reload) or sends them away. Their
// camera is already on: they see it, so that nothing is hidden from them.
export function Waiting({ code, session, onCancel }: { code: string; session: MeetingSession; onCancel: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const room = session.state.room;
  const camera = session.initialCamera();
  return (
    <main class="page narrow waiting">
      <h1 tabIndex={-1} ref={heading}>
        {t('waiting.title')}
      </h1>
      <p role="status">{t('waiting.text')}</p>
      <p class="room-line">{room?.name ? t('prejoin.roomNamed', { name: room.name, code }) : t('prejoin.room', { code })}</p>
      {camera && (
        <div class="preview small-preview">
          <Video track={camera} mirrored label={t('prejoin.preview')} />
        </div>
      )}
      <div class="row">
        <button type="button" onClick={onCancel}>
          {t('waiting.cancel')}
        </button>
      </div>
    </main>
  );
}
