// Calls to the REST API (/api/v1, described at /api/v1/openapi.json). Its
// errors are {error, message}; they come back here as ApiError, so that the
// views can say what happened and what to do.

import type { Access, ChatFile, Publishing, Role } from './protocol';

export interface Me {
  signed_in: boolean;
  sign_in_available: boolean; // whether this server has sign-in at all
  id?: string;
  name?: string;
  email?: string;
  may_create_rooms: boolean;
}

export interface RoomInfo {
  code: string;
  name: string;
  path: string;
  access: Access;
  max_participants: number;
  publishing: Publishing;
  role?: Role; // the caller's
  created_at: string;
}

export interface JoinGrant {
  token: string;
  room: RoomInfo;
  name: string; // the name the meeting will show
  enter: 'enter' | 'wait';
  signal_url?: string; // the node of a cluster hosting the meeting
}

// ApiError is a refusal from the API, or connection_lost when it could not
// be reached. retryAfter (seconds) comes with rate_limited.
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

// apiError reads an error answer: its code (fallback when the body has none,
// as from a proxy's error page), message and Retry-After.
function apiError(status: number, data: Record<string, unknown>, retryAfter: string | null, fallback: string): ApiError {
  const retry = Number(retryAfter);
  const code = typeof data.error === 'string' ? data.error : fallback;
  return new ApiError(code, typeof data.message === 'string' ? data.message : '', status, retry > 0 ? retry : undefined);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('connection_lost', '');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw apiError(res.status, data, res.headers.get('Retry-After'), 'internal');
  return data as T;
}

// The signed-in state does not change while a page lives (signing in and
// out are page navigations), so one answer serves every view.
let me: Promise<Me> | null = null;

export function fetchMe(): Promise<Me> {
  me ??= call<Me>('GET', '/api/v1/me').catch((err) => {
    me = null; // try again next time
    throw err;
  });
  return me;
}

export async function recentRooms(): Promise<RoomInfo[]> {
  return (await call<{ rooms: RoomInfo[] }>('GET', '/api/v1/rooms')).rooms;
}

export function createRoom(name?: string): Promise<RoomInfo> {
  return call<RoomInfo>('POST', '/api/v1/rooms', name ? { name } : undefined);
}

export function getRoom(code: string): Promise<RoomInfo> {
  return call<RoomInfo>('GET', `/api/v1/rooms/${encodeURIComponent(code)}`);
}

// requestJoin asks for the join token that the signalling join carries: the
// server checks there who we are and whether we may come.
export function requestJoin(code: string, name: string): Promise<JoinGrant> {
  return call<JoinGrant>('POST', `/api/v1/rooms/${encodeURIComponent(code)}/join`, { name });
}

// signInURL sends the browser to the identity provider and back to path.
export function signInURL(path: string): string {
  return `/auth/login?next=${encodeURIComponent(path)}`;
}

// TranscriptInfo describes one of a room's transcripts, for its hosts.
export interface TranscriptInfo {
  id: string;
  started_at: string;
  ended_at: string | null; // null while it is being made
  language: string;
  segments: number;
  started_by: string;
}

export type TranscriptFormat = 'md' | 'vtt' | 'srt' | 'json';

// listTranscripts returns the room's transcripts, newest first (hosts only).
export async function listTranscripts(code: string): Promise<TranscriptInfo[]> {
  return (await call<{ transcripts: TranscriptInfo[] }>('GET', `/api/v1/rooms/${encodeURIComponent(code)}/transcripts`)).transcripts;
}

// transcriptURL is where the browser downloads a transcript; the server
// sends it as an attachment.
export function transcriptURL(code: string, id: string, format: TranscriptFormat): string {
  return `/api/v1/rooms/${encodeURIComponent(code)}/transcripts/${encodeURIComponent(id)}?format=${format}`;
}

// UploadProgress is how much of a file has gone up.
export interface UploadProgress {
  sent: number;
  total: number;
}

// uploadFile stores a file with the meeting, to be shared in its chat. The
// participant's id and resume token from the welcome say who sends it. It
// uses XMLHttpRequest, whose upload events let a progress bar move; fetch
// has none. Aborting through signal rejects with an AbortError.
export function uploadFile(
  code: string,
  file: File,
  auth: { participant: string; token: string },
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<ChatFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/rooms/${encodeURIComponent(code)}/files`);
    xhr.setRequestHeader('X-Visio-Participant', auth.participant);
    xhr.setRequestHeader('Authorization', `Bearer ${auth.token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let data: Record<string, unknown> = {};
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // an error page from a proxy: the status says enough
      }
      if (xhr.status >= 200 && xhr.status < 300 && typeof data.id === 'string') {
        resolve(data as unknown as ChatFile);
        return;
      }
      reject(apiError(xhr.status, data, xhr.getResponseHeader('Retry-After'), xhr.status === 413 ? 'too_large' : 'internal'));
    };
    xhr.onerror = () => reject(new ApiError('connection_lost', ''));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    if (signal?.aborted) {
      reject(new DOMException('upload cancelled', 'AbortError'));
      return;
    }
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
