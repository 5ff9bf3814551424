import { clockTime, httpURL, linkify, sizeParts, type Outgoing } from '../chat';
import { t } from '../i18n';
import type { ChatFile, ChatMessage } from '../protocol';
import { FileIcon } from './icons';

// LinkedText shows a message's text with its http(s) addresses as links
// that open in a new tab without giving it a handle on this one. Preact
// renders strings as text nodes: whatever a message holds, it is never
// HTML. Line breaks show through the style (white-space: pre-wrap).
export function LinkedText({ text }: { text: string }) {
  return (
    <p class="chat-text">
      {linkify(text).map((piece, i) =>
        piece.href ? (
          <a key={i} href={piece.href} target="_blank" rel="noopener noreferrer">
            {piece.text}
          </a>
        ) : (
          piece.text
        ),
      )}
    </p>
  );
}

export function fileSize(bytes: number): string {
  const { value, unit } = sizeParts(bytes);
  return t(unit, { value });
}

// FileCard is a shared file: its name, size and a download link. The link
// is kept to http(s), should the server ever hand out something else.
export function FileCard({ file }: { file: ChatFile }) {
  const href = httpURL(file.url, location.href);
  const size = fileSize(file.size);
  return (
    <div class="chat-file" role="group" aria-label={t('chat.file', { file: file.name })}>
      <FileIcon />
      <span class="chat-file-about">
        <span class="chat-file-name">{file.name}</span>
        <span class="chat-file-size">{size}</span>
      </span>
      {href && (
        <a class="chat-file-download" href={href} download={file.name}>
          {t('chat.download')}
          <span class="sr-only">
            {' '}
            {file.name} ({size})
          </span>
        </a>
      )}
    </div>
  );
}

function Body({ text, file }: { text: string; file?: ChatFile }) {
  return (
    <>
      {text && <LinkedText text={text} />}
      {file && <FileCard file={file} />}
    </>
  );
}

function Meta({ name, at, own, state }: { name: string; at: number; own: boolean; state?: string }) {
  return (
    <div class="chat-meta">
      <span class="chat-name">{own ? `${name} (${t('meeting.you')})` : name}</span>
      <time dateTime={new Date(at).toISOString()}>{clockTime(at)}</time>
      {state && <span class="chat-state">{state}</span>}
    </div>
  );
}

// excerpt is the start of a message, to tell apart the delete buttons of
// two messages sent by one person in one minute.
function excerpt(m: ChatMessage): string {
  const text = m.text.replace(/\s+/g, ' ').trim();
  if (!text) return m.file?.name ?? '';
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

// PostedMessage is a message the server posted. Hosts get a button to
// delete it; the deletion is asked for in a dialog first.
export function PostedMessage({ m, own, host, onDelete }: { m: ChatMessage; own: boolean; host: boolean; onDelete: (m: ChatMessage) => void }) {
  return (
    <li class={`chat-message ${own ? 'own' : ''} ${m.deleted ? 'deleted' : ''}`} data-id={m.id}>
      <Meta name={m.name} at={m.at} own={own} />
      {m.deleted ? <p class="chat-deleted">{t('chat.deleted')}</p> : <Body text={m.text} file={m.file} />}
      {host && !m.deleted && (
        <button type="button" class="small link chat-delete" aria-label={t('chat.deleteOf', { name: m.name, time: clockTime(m.at), excerpt: excerpt(m) })} onClick={() => onDelete(m)}>
          {t('chat.delete')}
        </button>
      )}
    </li>
  );
}

// OutgoingMessage is one of ours the server has not posted yet: dimmed
// while on its way, with what to do when it was refused.
export function OutgoingMessage({ o, name, onRetry, onDiscard }: { o: Outgoing; name: string; onRetry: () => void; onDiscard: () => void }) {
  return (
    <li class={`chat-message own ${o.failed ? 'failed' : 'pending'}`} data-client-id={o.clientId}>
      <Meta name={name} at={o.at} own state={o.failed ? t('chat.failed') : t('chat.sending')} />
      <Body text={o.text} file={o.file} />
      {o.failed && (
        <div class="row">
          <button type="button" class="small" onClick={onRetry}>
            {t('chat.retry')}
          </button>
          <button type="button" class="small" onClick={onDiscard}>
            {t('chat.discard')}
          </button>
        </div>
      )}
    </li>
  );
}
