// The chat and reactions of a meeting session, over its signalling socket:
// what the session hands on from the server, and what the views send.
// Messages typed while the socket is down wait here and go after the next
// welcome; each carries a client id, so that the server posts it once even
// when it goes again after a drop.

import { ApiError, uploadFile, type UploadProgress } from './api';
import { markDeleted, mergeMessages, newClientId, settle, type ChatState, type Outgoing } from './chat';
import type { ChatFile, ChatMessage, ClientMessage, ReactionEmoji, ServerMessage } from './protocol';

export type ChatServerMessage = Extract<ServerMessage, { type: 'chat' | 'chat_history' | 'chat_deleted' | 'reaction' }>;

// ChatHost is what the channel needs from its session.
export interface ChatHost {
  room: string; // the meeting's code
  send: (msg: ClientMessage) => void;
  state: () => ChatState;
  update: (chat: ChatState) => void; // stores the new state and re-renders
  self: () => { id: string; token: string } | null; // who we are, with the resume token
}

export class ChatChannel {
  private welcomed = false; // the socket had its welcome: messages may go
  private countHistory = false; // the history after this welcome may hold unread messages
  private shown = false;
  private messageListeners = new Set<(m: ChatMessage) => void>();
  private reactionListeners = new Set<(participant: string, emoji: string) => void>();

  constructor(private host: ChatHost) {}

  static initial(): ChatState {
    return { messages: [], outgoing: [], unread: 0 };
  }

  // ---- from the session ----

  // welcomed sends what waited for the socket, and again what was sent
  // without an answer before it dropped. The history that follows a resume
  // may hold what others said during the drop; the one on entering is old
  // news, not unread.
  welcome(resumed: boolean) {
    this.welcomed = true;
    this.countHistory = resumed;
    for (const out of this.host.state().outgoing) if (!out.failed) this.transmit(out);
  }

  dropped() {
    this.welcomed = false;
  }

  receive(msg: ChatServerMessage) {
    switch (msg.type) {
      case 'chat_history':
        this.merge(msg.messages, this.countHistory, false);
        break;
      case 'chat': {
        const { type: _, ...message } = msg;
        this.merge([message], true, true);
        break;
      }
      case 'chat_deleted': {
        const chat = this.host.state();
        this.host.update({ ...chat, messages: markDeleted(chat.messages, msg.id) });
        break;
      }
      case 'reaction':
        this.reactionListeners.forEach((fn) => fn(msg.participant, msg.emoji));
        break;
    }
  }

  // refused marks the oldest message still waiting as refused: the server
  // answers chat messages in the order they came.
  refused() {
    const chat = this.host.state();
    const first = chat.outgoing.find((o) => !o.failed);
    if (first) this.host.update({ ...chat, outgoing: chat.outgoing.map((o) => (o === first ? { ...o, failed: true } : o)) });
  }

  // ---- for the views ----

  // onMessage calls fn with each new message of someone else, as it comes
  // (not the history).
  onMessage(fn: (m: ChatMessage) => void): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }

  // onReaction calls fn with each reaction sent in the meeting, ours too.
  onReaction(fn: (participant: string, emoji: string) => void): () => void {
    this.reactionListeners.add(fn);
    return () => this.reactionListeners.delete(fn);
  }

  // offline tells whether messages sent now wait for the socket.
  get offline(): boolean {
    return !this.welcomed;
  }

  // setShown says whether the chat is on screen: what comes while it is is
  // read, what comes while it is not counts as unread.
  setShown(shown: boolean) {
    this.shown = shown;
    const chat = this.host.state();
    if (shown && chat.unread > 0) this.host.update({ ...chat, unread: 0 });
  }

  // send posts a message, at once or once the session is back. It shows as
  // outgoing until the server posts it.
  send(text: string, file?: ChatFile) {
    const out: Outgoing = { clientId: newClientId(), text, file, at: Date.now(), failed: false };
    const chat = this.host.state();
    this.host.update({ ...chat, outgoing: [...chat.outgoing, out] });
    this.transmit(out);
  }

  // retry sends again a message the server refused.
  retry(clientId: string) {
    const chat = this.host.state();
    const out = chat.outgoing.find((o) => o.clientId === clientId);
    if (!out) return;
    const again = { ...out, failed: false };
    this.host.update({ ...chat, outgoing: chat.outgoing.map((o) => (o === out ? again : o)) });
    this.transmit(again);
  }

  discard(clientId: string) {
    const chat = this.host.state();
    this.host.update({ ...chat, outgoing: chat.outgoing.filter((o) => o.clientId !== clientId) });
  }

  // remove deletes a message for everyone (hosts only).
  remove(id: number) {
    this.host.send({ type: 'chat_delete', id });
  }

  react(emoji: ReactionEmoji) {
    this.host.send({ type: 'react', emoji });
  }

  // upload stores a file with the meeting, for a message to share it.
  upload(file: File, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<ChatFile> {
    const self = this.host.self();
    if (!self) return Promise.reject(new ApiError('not_joined', ''));
    return uploadFile(this.host.room, file, { participant: self.id, token: self.token }, onProgress, signal);
  }

  private transmit(out: Outgoing) {
    if (this.welcomed) this.host.send({ type: 'chat_send', text: out.text, file: out.file?.id, client_id: out.clientId });
  }

  private merge(incoming: ChatMessage[], countUnread: boolean, announce: boolean) {
    const chat = this.host.state();
    const { messages, added } = mergeMessages(chat.messages, incoming);
    const selfId = this.host.self()?.id;
    const theirs = added.filter((m) => m.from !== selfId && !m.deleted);
    const unread = countUnread && !this.shown ? chat.unread + theirs.length : chat.unread;
    this.host.update({ messages, outgoing: settle(chat.outgoing, incoming), unread });
    if (announce) for (const m of theirs) this.messageListeners.forEach((fn) => fn(m));
  }
}
