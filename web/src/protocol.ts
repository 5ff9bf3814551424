// Signalling protocol version 1, as defined by internal/protocol and
// docs/protocol.md. Keep the two in step.

export const subprotocol = 'visio.v1';

export type Quality = 'good' | 'fair' | 'poor';

export type Source = 'microphone' | 'camera' | 'screen' | 'screen_audio';
export type Target = 'publish' | 'subscribe';

export interface Track { source: Source; muted: boolean }

// Role is a participant's standing in the room; owners and administrators
// are its hosts. Guests and people without a membership have none.
export type Role = 'owner' | 'administrator' | 'member';
export interface Participant { id: string; name: string; tracks: Track[]; role?: Role; signed_in?: boolean; hand_raised_at?: number }

export type Access = 'public' | 'trusted' | 'restricted';
// Publishing says what participants who are not hosts may send.
export interface Publishing { microphone: boolean; camera: boolean; screen: boolean }
// Visitor is someone waiting in the lobby.
export interface Visitor { id: string; name: string; signed_in: boolean }

export type ModerateAction = 'mute' | 'mute_all' | 'stop' | 'remove' | 'role' | 'pin' | 'lower_hand' | 'end';
export interface Moderate {
  type: 'moderate';
  action: ModerateAction;
  participant?: string;
  source?: Source;
  ban?: boolean;
  role?: 'administrator' | 'member';
}
export interface RoomSettings {
  type: 'room_settings';
  access?: Access;
  max_participants?: number;
  publishing?: Publishing;
}
// RoomRules are the room's rules and pin, as the server tells everyone.
export interface RoomRules { access: Access; max_participants: number; publishing: Publishing; pinned?: string }
// SpeechLanguage is a language captions and transcripts may be asked in.
export type SpeechLanguage = 'fr' | 'en' | 'de' | 'nl';
export const speechLanguages: readonly SpeechLanguage[] = ['fr', 'en', 'de', 'nl'];
// SpeechControl is sent by hosts; fields left out do not change.
export interface SpeechControl {
  type: 'speech_control';
  captions?: boolean;
  transcribe?: boolean;
  language?: SpeechLanguage;
}
export type EngineState = 'ok' | 'degraded' | 'down';
export interface SpeechEngine { name: string; state: EngineState; detail?: string }
// SpeechStatus is whether captions and transcription are on, as the server
// tells everyone after the welcome and on every change. engine and
// transcript (the latest downloadable transcript's id) come to hosts only.
export interface SpeechStatus {
  available: boolean;
  reason?: string; // why not available, and what an operator should configure
  captions: boolean;
  transcribing: boolean;
  transcribing_since?: number; // ms since 1970
  language: SpeechLanguage;
  engine?: SpeechEngine;
  transcript?: string;
}
// Caption is a piece of what someone said. The partials of one utterance
// share its number and are replaced in place; the final one replaces them.
export interface Caption {
  participant: string;
  name: string;
  utterance: number;
  text: string;
  final: boolean;
  start_ms: number;
  end_ms: number;
  missed?: number; // utterances not captioned just before, the engine being behind
}
// ChatFile is a file shared in the chat, stored with the meeting: url is
// where its participants download it.
export interface ChatFile { id: string; name: string; size: number; type: string; url: string }
// ChatMessage is a message of the meeting's chat. Ids increase in the order
// the server posted them; client_id comes back to its sender only.
export interface ChatMessage {
  id: number;
  from: string;
  name: string;
  at: number; // ms since 1970
  text: string;
  file?: ChatFile;
  deleted: boolean;
  client_id?: string;
}
// The longest text a chat message may carry.
export const maxChatText = 4000;
// The reactions a participant may send, in the picker's order.
export const reactionEmoji = ['👍', '👏', '😂', '❤️', '🎉', '😮', '🤔', '🙏'] as const;
export type ReactionEmoji = (typeof reactionEmoji)[number];

export interface TrackDeclaration { mid: string; source: Source; muted: boolean }
export interface OfferedTrack { mid: string; participant: string; source: Source }

export type ClientMessage =
  | { type: 'join'; room: string; name: string; token: string; rejoin?: string }
  | { type: 'hand'; raised: boolean }
  | { type: 'publish'; sdp?: string; tracks: TrackDeclaration[] }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; target: Target; candidate: RTCIceCandidateInit }
  | { type: 'mute'; source: Source; muted: boolean }
  | { type: 'view'; tracks: ViewedTrack[] }
  | { type: 'resume'; participant: string; token: string }
  | { type: 'restart' }
  | { type: 'leave' }
  | { type: 'admit'; participant: string }
  | { type: 'deny'; participant: string }
  | { type: 'admit_all' }
  | { type: 'chat_send'; text: string; file?: string; client_id: string }
  | { type: 'chat_delete'; id: number }
  | { type: 'react'; emoji: ReactionEmoji }
  | Moderate
  | RoomSettings
  | SpeechControl;

// ViewedTrack is a video track shown on screen, with its tile's size in
// device pixels.
export interface ViewedTrack { participant: string; source: Source; width: number; height: number }

export type ErrorCode =
  | 'bad_json' | 'unknown_type' | 'invalid_message' | 'too_large' | 'not_joined' | 'already_joined'
  | 'bad_sdp' | 'bad_candidate' | 'out_of_order' | 'bad_room' | 'room_full' | 'rate_limited'
  | 'unsupported_protocol' | 'internal' | 'room_unavailable' | 'resume_failed'
  | 'forbidden' | 'not_found' | 'banned' | 'sign_in_required' | 'bad_token';

export type LeaveReason =
  | 'left' | 'connection_lost' | 'connection_failed' | 'server_shutdown' | 'too_slow' | 'replaced' | 'moved'
  | 'denied' | 'removed' | 'banned' | 'ended';

export type ServerMessage =
  | {
      type: 'welcome';
      protocol: number;
      room: string;
      you: Participant;
      participants: Participant[];
      ice_servers?: RTCIceServer[];
      resume_token: string;
      rejoin_token?: string;
      resume_within_ms: number;
      resumed?: boolean;
      start_muted?: boolean; // the meeting is large: join with the microphone off
      quiet_above: number; // no notification sounds in meetings larger than this; 0: never
    }
  | { type: 'participant_joined'; participant: Participant }
  | { type: 'participant_updated'; participant: Participant }
  | { type: 'participant_left'; id: string; reason: LeaveReason }
  | { type: 'publish_answer'; sdp: string }
  | { type: 'offer'; sdp: string; tracks: OfferedTrack[] }
  | { type: 'candidate'; target: Target; candidate: RTCIceCandidateInit }
  | { type: 'speakers'; active: string; speaking: string[] }
  | { type: 'layers'; mid: string; active: string[] }
  | { type: 'quality'; participants: Record<string, Quality> }
  | { type: 'waiting'; room: string }
  | { type: 'lobby'; waiting: Visitor[]; knock?: boolean }
  | { type: 'moderated'; action: 'mute' | 'stop' | 'lower_hand'; source: Source; by: string }
  | ({ type: 'room' } & RoomRules)
  | ({ type: 'speech' } & SpeechStatus)
  | ({ type: 'caption' } & Caption)
  | ({ type: 'chat' } & ChatMessage)
  | { type: 'chat_history'; messages: ChatMessage[] }
  | { type: 'chat_deleted'; id: number; by: string }
  | { type: 'reaction'; participant: string; emoji: string }
  | { type: 'bye'; reason: LeaveReason }
  | { type: 'error'; code: ErrorCode; message: string; request?: string };
