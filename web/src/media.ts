// Access to the camera, microphone and screen, with failures sorted into
// what the user can do about them.

import type { MessageKey } from './i18n';

export type DeviceProblem = 'denied' | 'missing' | 'busy' | 'failed' | 'insecure';

export const problemMessage: Record<DeviceProblem, MessageKey> = {
  denied: 'devices.denied',
  missing: 'devices.missing',
  busy: 'devices.busy',
  failed: 'devices.failed',
  insecure: 'devices.insecure',
};

export function classify(err: unknown): DeviceProblem {
  const name = err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
  }
  return 'failed';
}

export interface DeviceChoice {
  audio: boolean;
  video: boolean;
  audioDeviceId?: string;
  videoDeviceId?: string;
}

export interface Capture {
  stream: MediaStream;
  problem?: DeviceProblem; // set when some of what was asked could not be had
  missing: { audio: boolean; video: boolean };
}

const videoConstraints: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const audioConstraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

function constraints(choice: DeviceChoice): MediaStreamConstraints {
  return {
    audio: choice.audio && { ...audioConstraints, ...(choice.audioDeviceId ? { deviceId: { exact: choice.audioDeviceId } } : {}) },
    video: choice.video && { ...videoConstraints, ...(choice.videoDeviceId ? { deviceId: { exact: choice.videoDeviceId } } : {}) },
  };
}

// capture asks for what the choice wants, and when the pair fails, for each
// device alone, so that a missing camera does not cost the microphone.
export async function capture(choice: DeviceChoice): Promise<Capture> {
  const stream = new MediaStream();
  const missing = { audio: false, video: false };
  if (!choice.audio && !choice.video) return { stream, missing };
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream, missing: { audio: choice.audio, video: choice.video }, problem: 'insecure' };
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints(choice)), missing };
  } catch (err) {
    const problem = classify(err);
    if (problem === 'denied' || !(choice.audio && choice.video)) {
      return { stream, problem, missing: { audio: choice.audio, video: choice.video } };
    }
  }
  let problem: DeviceProblem | undefined;
  for (const kind of ['audio', 'video'] as const) {
    try {
      const s = await navigator.mediaDevices.getUserMedia(constraints({ ...choice, audio: kind === 'audio', video: kind === 'video' }));
      s.getTracks().forEach((t) => stream.addTrack(t));
    } catch (err) {
      missing[kind] = true;
      problem = classify(err);
    }
  }
  return { stream, problem, missing };
}

export async function listDevices(): Promise<{ audio: MediaDeviceInfo[]; video: MediaDeviceInfo[] }> {
  if (!navigator.mediaDevices?.enumerateDevices) return { audio: [], video: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    audio: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
    video: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
  };
}

export async function captureScreen(): Promise<MediaStream> {
  return navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: true });
}

export function stopStream(stream: MediaStream | null | undefined) {
  stream?.getTracks().forEach((t) => t.stop());
}
