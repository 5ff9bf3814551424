import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { t } from '../i18n';
import { maxChatText, type ChatMessage } from '../protocol';
import { isHost } from '../meetingstate';
import type { MeetingSession } from '../session';
import { fileSize, OutgoingMessage, PostedMessage } from './ChatMessage';
import { Confirm } from './Dialog';
import { AttachIcon } from './icons';
import { Panel } from './Panel';

export const chatPanelId = 'chat-panel';

// Past this many characters left, the box says how many remain.
const remainingShownBelow = 200;
// Announcements kept in the live region, for screen readers that read back.
const spokenMessages = 5;
const spokenLength = 300;

// ChatButton opens the chat, with a badge of the messages that came while
// it was closed; its label says how many, the badge itself is decoration.
export function ChatButton({ unread, expanded, onToggle }: { unread: number; expanded: boolean; onToggle: () => void }) {
  const count = unread === 1 ? t('chat.unreadOne') : t('chat.unreadMany', { count: unread });
  return (
    <button
      type="button"
      class={`tool ${expanded ? 'active' : ''}`}
      aria-label={unread > 0 ? `${t('chat.button')}, ${count}` : undefined}
      aria-expanded={expanded}
      aria-controls={expanded ? chatPanelId : undefined}
      onClick={onToggle}
    >
      {t('chat.button')}
      {/* The count is a word of its own, as in the label (WCAG 2.5.3). */}
      {' '}
      {unread > 0 && (
        <span class="badge count-badge" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </button>
  );
}

// ChatAnnouncer has screen readers told each new message of someone else,
// whether the chat is open or not. The history is not read out.
export function ChatAnnouncer({ session }: { session: MeetingSession }) {
  const [said, setSaid] = useState<{ id: number; text: string }[]>([]);
  useEffect(
    () =>
      session.chat.onMessage((m) => {
        const parts: string[] = [];
        const text = m.text.trim();
        if (text) parts.push(t('chat.said', { name: m.name, text: text.length > spokenLength ? `${text.slice(0, spokenLength)}…` : text }));
        if (m.file) parts.push(t('chat.sharedFile', { name: m.name, file: m.file.name }));
        if (parts.length > 0) setSaid((s) => [...s, { id: m.id, text: parts.join('. ') }].slice(-spokenMessages));
      }),
    [session],
  );
  return (
    <div class="sr-only" aria-live="polite" aria-relevant="additions">
      {said.map((s) => (
        <p key={s.id}>{s.text}</p>
      ))}
    </div>
  );
}

// ChatPanel is the meeting's chat: its messages, oldest first, and the box
// to write in. draft keeps what was typed while the panel is closed.
export function ChatPanel({ session, draft, onClose }: { session: MeetingSession; draft: { current: string }; onClose: () => void }) {
  const s = session.state;
  const { messages, outgoing } = s.chat;
  const host = isHost(s.self);
  const selfId = s.self?.id;
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true); // the list follows new messages only when scrolled to its end
  const removing = useRef<number | null>(null); // the message a host asked to delete

  useLayoutEffect(() => {
    const el = list.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
    // The delete button that had focus is gone with its message's text:
    // focus goes to the list rather than nowhere.
    const gone = removing.current !== null && messages.find((m) => m.id === removing.current)?.deleted;
    if (gone) {
      removing.current = null;
      if (!document.activeElement || document.activeElement === document.body) el?.focus();
    }
  }, [messages, outgoing]);

  // The session re-renders the meeting several times a second (who
  // speaks); the messages are rebuilt only when they change.
  const items = useMemo(
    () => [
      ...messages.map((m) => <PostedMessage key={`m${m.id}`} m={m} own={m.from === selfId} host={host} onDelete={setDeleting} />),
      ...outgoing.map((o) => (
        <OutgoingMessage
          key={`o${o.clientId}`}
          o={o}
          name={s.self?.name ?? ''}
          onRetry={() => session.chat.retry(o.clientId)}
          onDiscard={() => session.chat.discard(o.clientId)}
        />
      )),
    ],
    [messages, outgoing, selfId, host, s.self?.name],
  );

  return (
    <Panel id={chatPanelId} class="chat" title={t('chat.title')} onClose={onClose}>
      {messages.length === 0 && outgoing.length === 0 ? (
        <p class="panel-empty chat-empty">{t('chat.empty')}</p>
      ) : (
        <ol
          class="chat-messages"
          ref={list}
          aria-label={t('chat.messages')}
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
          }}
        >
          {items}
        </ol>
      )}
      {session.chat.offline && s.self && <p class="hint chat-offline">{t('chat.offline')}</p>}
      <Composer session={session} draft={draft} onSent={() => (atBottom.current = true)} />
      {deleting && (
        <Confirm
          title={t('chat.deleteTitle')}
          text={t('chat.deleteText', { name: deleting.name })}
          confirm={t('chat.delete')}
          onConfirm={() => {
            removing.current = deleting.id;
            session.chat.remove(deleting.id);
          }}
          onClose={() => setDeleting(null)}
        />
      )}
    </Panel>
  );
}

interface Upload {
  name: string;
  percent: number;
  abort: AbortController;
}

// Composer is the box to write in and the button to attach a file. Enter
// sends, Shift+Enter goes to the line; focus stays in the box after
// sending, to write the next message.
function Composer({ session, draft, onSent }: { session: MeetingSession; draft: { current: string }; onSent: () => void }) {
  const [text, setText] = useState(draft.current);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [problem, setProblem] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  const edit = (value: string) => {
    setText(value);
    draft.current = value;
  };

  const send = () => {
    const body = text.trim();
    input.current?.focus();
    if (!body) return;
    onSent();
    session.chat.send(body);
    edit('');
  };

  const attach = async (file: File) => {
    setProblem('');
    const abort = new AbortController();
    setUpload({ name: file.name, percent: 0, abort });
    try {
      const stored = await session.chat.upload(
        file,
        (p) => setUpload((u) => u && { ...u, percent: p.total > 0 ? Math.min(100, Math.floor((100 * p.sent) / p.total)) : 0 }),
        abort.signal,
      );
      onSent();
      session.chat.send('', stored);
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setProblem(uploadProblem(file, err));
    } finally {
      setUpload(null);
      if (picker.current) picker.current.value = ''; // the same file may be picked again
    }
  };

  const left = maxChatText - text.length;
  return (
    <form
      class="chat-form"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {upload && (
        <div class="chat-upload">
          <label for="chat-upload-progress">{t('chat.uploading', { file: upload.name, percent: upload.percent })}</label>
          <div class="row">
            <progress id="chat-upload-progress" max={100} value={upload.percent} />
            <button type="button" class="small" onClick={() => upload.abort.abort()}>
              {t('chat.cancelUpload')}
            </button>
          </div>
        </div>
      )}
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      <label for="chat-input" class="sr-only">
        {t('chat.input')}
      </label>
      <textarea
        id="chat-input"
        ref={input}
        rows={2}
        maxLength={maxChatText}
        value={text}
        aria-describedby="chat-hint"
        onInput={(e) => edit(e.currentTarget.value)}
        onKeyDown={(e) => {
          // Enter while an input method composes a word picks the word.
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <p id="chat-hint" class="hint">
        {left < remainingShownBelow ? `${t('chat.remaining', { count: left })} ` : ''}
        {t('chat.hint')}
      </p>
      <div class="row chat-actions">
        <button type="button" class="small" disabled={upload !== null} onClick={() => picker.current?.click()}>
          <AttachIcon />
          {t('chat.attach')}
        </button>
        <input
          ref={picker}
          type="file"
          class="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void attach(file);
          }}
        />
        <button type="submit" class="small light-primary">
          {t('chat.send')}
        </button>
      </div>
    </form>
  );
}

// uploadProblem says why a file was not stored, with the server's words
// when it gave some (the size limit), and what to do.
function uploadProblem(file: File, err: unknown): string {
  const name = `${file.name} (${fileSize(file.size)})`;
  if (!(err instanceof ApiError) || err.code === 'connection_lost') return t('chat.uploadOffline', { file: name });
  const message = sentence(err.message);
  if (err.status === 413) return t('chat.tooLarge', { file: name, message }).trim();
  return t('chat.uploadRefused', { file: name, message }).trim();
}

// sentence makes the server's message, which starts lowercase to follow
// another clause, stand as a sentence of its own.
function sentence(message: string): string {
  const text = message.trim();
  if (!text) return '';
  return `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}
