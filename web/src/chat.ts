// The meeting's chat as this browser keeps it (the messages the server
// posted, by id, and ours it has not posted yet), and how a message shows:
// its links, its file's size, its time. ChatChannel moves it.

import { lang } from './i18n';
import type { ChatFile, ChatMessage } from './protocol';

// Outgoing is a message typed here and not posted yet. failed: the server
// refused it; it stays until sent again or discarded.
export interface Outgoing {
  clientId: string;
  text: string;
  file?: ChatFile;
  at: number;
  failed: boolean;
}

export interface ChatState {
  messages: ChatMessage[]; // posted, by increasing id
  outgoing: Outgoing[]; // in the order typed
  unread: number; // messages of others received while the chat was not shown
}

// mergeMessages adds incoming to messages: one per id (the later copy wins,
// say a message since deleted), in the order of ids. added lists those of
// incoming whose id was not there before.
export function mergeMessages(messages: ChatMessage[], incoming: ChatMessage[]): { messages: ChatMessage[]; added: ChatMessage[] } {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const added: ChatMessage[] = [];
  for (const m of incoming) {
    if (!Number.isFinite(m.id)) continue;
    if (!byId.has(m.id)) added.push(m);
    byId.set(m.id, m);
  }
  if (incoming.length === 0) return { messages, added };
  return { messages: [...byId.values()].sort((a, b) => a.id - b.id), added };
}

// settle drops the outgoing messages that the server has posted.
export function settle(outgoing: Outgoing[], posted: ChatMessage[]): Outgoing[] {
  const ids = new Set(posted.map((m) => m.client_id).filter(Boolean));
  if (ids.size === 0) return outgoing;
  const left = outgoing.filter((o) => !ids.has(o.clientId));
  return left.length === outgoing.length ? outgoing : left;
}

// markDeleted shows message id as deleted: its text and file are gone for
// everyone.
export function markDeleted(messages: ChatMessage[], id: number): ChatMessage[] {
  return messages.map((m) => (m.id === id ? { ...m, text: '', file: undefined, deleted: true } : m));
}

// newClientId makes an id for a message typed here, unique in this page.
export function newClientId(): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `c${Date.now().toString(36)}${random[0]!.toString(36)}${random[1]!.toString(36)}`;
}

// Piece is a run of a message's text: plain, or a link to href.
export interface Piece {
  text: string;
  href?: string;
}

const linkStart = /https?:\/\//gi;
// Punctuation that ends a sentence rather than the address before it.
const trailing = /[.,;:!?'"»”’)\]]+$/;

// linkify cuts text into plain runs and http(s) links. Only these two
// schemes become links: a message must not make javascript: or data: URLs
// clickable. The result is rendered as text nodes, never as HTML.
export function linkify(text: string): Piece[] {
  const pieces: Piece[] = [];
  let plain = 0; // where the current plain run starts
  linkStart.lastIndex = 0;
  for (let m = linkStart.exec(text); m; m = linkStart.exec(text)) {
    const start = m.index;
    // "xhttp://" is a word that happens to contain a scheme.
    if (start > 0 && /[\p{L}\p{N}_/]/u.test(text[start - 1]!)) continue;
    let end = start;
    while (end < text.length && !/[\s<>"]/.test(text[end]!)) end++;
    let candidate = text.slice(start, end);
    candidate = trimTrailing(candidate);
    const href = httpURL(candidate);
    if (!href || candidate.length <= m[0].length) continue;
    if (start > plain) pieces.push({ text: text.slice(plain, start) });
    pieces.push({ text: candidate, href });
    plain = start + candidate.length;
    linkStart.lastIndex = plain;
  }
  if (plain < text.length) pieces.push({ text: text.slice(plain) });
  return pieces;
}

// trimTrailing takes off the punctuation after an address, keeping a
// closing parenthesis that closes one opened inside it (Wikipedia's
// https://fr.wikipedia.org/wiki/Paris_(homonymie)).
function trimTrailing(candidate: string): string {
  let out = candidate.replace(trailing, '');
  const rest = candidate.slice(out.length);
  for (const ch of rest) {
    if (ch !== ')' || count(out, '(') <= count(out, ')')) break;
    out += ch;
  }
  return out;
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}

// httpURL is url, normalised, when it is an http or https URL, else ''.
export function httpURL(url: string, base?: string): string {
  try {
    const parsed = new URL(url, base);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : '';
  } catch {
    return '';
  }
}

const units = ['size.bytes', 'size.kb', 'size.mb', 'size.gb'] as const;
export type SizeUnit = (typeof units)[number];

// sizeParts gives a file's size as a number and its unit, in powers of
// 1024 as file managers show them.
export function sizeParts(bytes: number): { value: string; unit: SizeUnit } {
  let value = Math.max(0, bytes);
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const digits = i === 0 || value >= 10 ? 0 : 1;
  return { value: value.toLocaleString(lang(), { maximumFractionDigits: digits }), unit: units[i]! };
}

// clockTime is a moment as the hour and minute, the user's way.
export function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit' });
}
