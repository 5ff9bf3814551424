// What a meeting looks like to the app: the state a MeetingSession keeps
// and views render, and what views derive from it.

import type { RoomInfo } from './api';
import type { ChatState } from './chat';
import type { MessageKey } from './i18n';
import type { Participant, Quality, RoomRules, Source, SpeechStatus, Visitor } from './protocol';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed';

export type RemoteMedia = Partial<Record<Source, MediaStreamTrack>>;

export interface Ended {
  reason: string; // a LeaveReason, or the ErrorCode that ended the session
  message?: string;
  retryAfter?: number; // seconds, when the server said how long to wait
}

// Notice is a short message for the user: what a host did to them, or an
// action of theirs the server refused. seq tells two equal notices apart.
export interface Notice {
  key: MessageKey;
  params?: Record<string, string>;
  seq: number;
}

// Knocks counts the lobby's knocks (someone just arrived), with the names
// of those who arrived on the last one.
export interface Knocks {
  count: number;
  names: string[];
}

// The sources whose sending a room may forbid to participants who are not
// hosts.
export type Governed = 'microphone' | 'camera' | 'screen';

// handRanks gives each raised hand its place, 1 for the first raised.
export function handRanks(people: (Participant | null | undefined)[]): Map<string, number> {
  const raised = people.filter((p): p is Participant => !!p?.hand_raised_at);
  raised.sort((a, b) => a.hand_raised_at! - b.hand_raised_at!);
  return new Map(raised.map((p, i) => [p.id, i + 1]));
}

export function isHost(p: Participant | null | undefined): boolean {
  return p?.role === 'owner' || p?.role === 'administrator';
}

export interface MeetingState {
  connection: ConnectionState;
  self: Participant | null;
  others: Participant[]; // in order of arrival
  media: Map<string, RemoteMedia>; // received tracks by participant id
  local: Partial<Record<Source, MediaStreamTrack>>; // what we publish
  micMuted: boolean;
  cameraOn: boolean;
  sharing: boolean;
  speakers: { active: string; speaking: string[] };
  quality: Record<string, Quality>; // each participant's connection, by id, as the server rates it
  waiting: boolean; // in the lobby, until a host lets us in
  admitted: boolean; // let in by a host after waiting
  room: RoomInfo | null; // the room's record, from the join request
  rules: RoomRules | null; // the room's rules and pin, from the server
  lobby: Visitor[]; // who waits to enter, for hosts
  speech: SpeechStatus | null; // captions and transcription; null until the server says
  knocks: Knocks;
  chat: ChatState;
  notice: Notice | null;
  ended: Ended | null;
  quietAbove: number; // the meeting size above which the app plays no sounds; 0: never play them
}

export interface InitialMedia {
  microphone?: MediaStreamTrack;
  camera?: MediaStreamTrack;
  micMuted: boolean;
  cameraOn: boolean;
}
