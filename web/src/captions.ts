// The lines of live captions: what the captions area shows from the
// server's caption messages, and whether this browser wants them shown.

import { safeStorageGet, safeStorageSet } from './i18n';
import type { Caption } from './protocol';

// CaptionLine is one utterance on screen: provisional while partials come,
// settled once the final one came.
export interface CaptionLine {
  key: string; // participant and utterance
  participant: string;
  name: string;
  text: string;
  final: boolean;
  missed: number;
  updated: number; // ms, when the line last changed
}

// Enough to follow who answers whom, few enough not to hide the stage.
export const maxCaptionLines = 3;
// A line goes this long after its last change, fading in its last second.
export const captionLifetimeMs = 8000;
export const captionFadeMs = 1000;

// addCaption puts a caption on the board: a new utterance goes to the
// bottom, a partial or final of one on screen replaces its text in place.
// A final with no text (the engine heard nothing) takes its line away.
export function addCaption(lines: CaptionLine[], c: Caption, now: number): CaptionLine[] {
  const key = `${c.participant}:${c.utterance}`;
  const text = c.text.trim();
  const i = lines.findIndex((l) => l.key === key);
  if (i >= 0 && lines[i]!.final) return lines; // a late partial must not undo the final
  if (c.final && !text) return i >= 0 ? lines.filter((_, j) => j !== i) : lines;
  if (!text && !c.missed) return lines;
  const line: CaptionLine = { key, participant: c.participant, name: c.name, text, final: c.final, missed: c.missed ?? 0, updated: now };
  if (i >= 0) {
    line.missed = Math.max(line.missed, lines[i]!.missed);
    return lines.map((l, j) => (j === i ? line : l));
  }
  return [...lines, line].slice(-maxCaptionLines);
}

// expireCaptions drops the lines that have been on screen long enough.
export function expireCaptions(lines: CaptionLine[], now: number): CaptionLine[] {
  const kept = lines.filter((l) => now - l.updated < captionLifetimeMs);
  return kept.length === lines.length ? lines : kept;
}

// nextCaptionChange is when the board next looks different by itself (a
// line starts fading or goes), or null when it is empty.
export function nextCaptionChange(lines: CaptionLine[], now: number): number | null {
  let next: number | null = null;
  for (const l of lines) {
    const fade = l.updated + captionLifetimeMs - captionFadeMs;
    const end = l.updated + captionLifetimeMs;
    const at = now < fade ? fade : end;
    if (next === null || at < next) next = at;
  }
  return next;
}

export function isFading(line: CaptionLine, now: number): boolean {
  return now - line.updated >= captionLifetimeMs - captionFadeMs;
}

const storageKey = 'visio.captions';

// captionsWanted tells whether this browser chose to show captions; they
// start hidden, each participant choosing for themselves.
export function captionsWanted(): boolean {
  return safeStorageGet(storageKey) === 'on';
}

export function setCaptionsWanted(on: boolean) {
  safeStorageSet(storageKey, on ? 'on' : 'off');
}
