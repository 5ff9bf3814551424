// Signalling protocol version 1, as defined by internal/protocol and
// docs/protocol.md. Keep the two in step.

export const subprotocol = 'visio.v1';

export type Quality = 'good' | 'fair' | 'poor';

export type Source = 'microphone' | 'camera' | 'screen' | 'screen_audio';
export type Target = 'publish' | 'subscribe';

export interface Track { source: Source; muted: boolean }
export interface Participant { id: string; name: string; tracks: Track[] }
export interface TrackDeclaration { mid: string; source: Source; muted: boolean }
export interface OfferedTrack { mid: string; participant: string; source: Source }

export type ClientMessage =
  | { type: 'join'; room: string; name: string; token: string }
  | { type: 'publish'; sdp?: string; tracks: TrackDeclaration[] }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; target: Target; candidate: RTCIceCandidateInit }
  | { type: 'mute'; source: Source; muted: boolean }
  | { type: 'view'; tracks: ViewedTrack[] }
  | { type: 'resume'; participant: string; token: string }
  | { type: 'restart' }
  | { type: 'leave' };

// ViewedTrack is a video track shown on screen, with its tile's size in
// device pixels.
export interface ViewedTrack { participant: string; source: Source; width: number; height: number }

export type ErrorCode =
  | 'bad_json' | 'unknown_type' | 'invalid_message' | 'too_large' | 'not_joined' | 'already_joined'
  | 'bad_sdp' | 'bad_candidate' | 'out_of_order' | 'bad_room' | 'room_full' | 'rate_limited'
  | 'unsupported_protocol' | 'internal' | 'room_unavailable' | 'resume_failed';

export type LeaveReason = 'left' | 'connection_lost' | 'connection_failed' | 'server_shutdown' | 'too_slow' | 'replaced';

export type ServerMessage =
  | {
      type: 'welcome';
      protocol: number;
      room: string;
      you: Participant;
      participants: Participant[];
      ice_servers?: RTCIceServer[];
      resume_token: string;
      resume_within_ms: number;
      resumed?: boolean;
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
  | { type: 'bye'; reason: LeaveReason }
  | { type: 'error'; code: ErrorCode; message: string; request?: string };
