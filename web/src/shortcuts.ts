// Keyboard shortcuts of the meeting, and the words the help dialog shows
// for them.
//
// The keys are Google Meet's, which many users know: Ctrl+D microphone,
// Ctrl+E camera, Ctrl+Alt+H hand, Ctrl+Alt+C chat, Ctrl+/ help (Cmd for Ctrl
// and Ctrl+Cmd for Ctrl+Alt on a Mac, where Ctrl+Option is VoiceOver's own
// key). Every one but "?" needs a modifier: single-letter keys would fire
// while a screen reader's focus mode passes letters through, and would go
// against WCAG 2.1.4. None of them is a screen-reader key: NVDA, JAWS,
// Narrator and Orca use Insert or Caps Lock, VoiceOver Ctrl+Option.

import { useEffect, useRef } from 'preact/hooks';
import { t, type MessageKey } from './i18n';

export type ShortcutAction = 'microphone' | 'camera' | 'hand' | 'chat' | 'help';

type Modifier = 'ctrl' | 'alt' | 'meta';

interface Binding {
  action: ShortcutAction;
  key: string; // a lower-case letter, or the character typed
  modifiers: Modifier[];
}

// The event's fields the shortcuts look at.
export type KeyPress = Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'altKey' | 'metaKey' | 'shiftKey'>;

export function isMac(): boolean {
  const platform = (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData?.platform ?? navigator.platform;
  return /mac|iphone|ipad/i.test(platform);
}

export function bindings(mac: boolean): Binding[] {
  const primary: Modifier[] = [mac ? 'meta' : 'ctrl'];
  const secondary: Modifier[] = mac ? ['ctrl', 'meta'] : ['ctrl', 'alt'];
  return [
    { action: 'microphone', key: 'd', modifiers: primary },
    { action: 'camera', key: 'e', modifiers: primary },
    { action: 'hand', key: 'h', modifiers: secondary },
    { action: 'chat', key: 'c', modifiers: secondary },
    { action: 'help', key: '?', modifiers: [] },
    { action: 'help', key: '/', modifiers: primary },
  ];
}

// The letter a key press is for. With Option on a Mac, or AltGr, the
// browser reports the character typed (˙ for H); the key's place is used
// then, which is the letter on QWERTY, AZERTY and QWERTZ alike.
function letterOf(e: KeyPress): string {
  if (/^[a-z]$/i.test(e.key)) return e.key.toLowerCase();
  if (/^Key[A-Z]$/.test(e.code)) return e.code.slice(3).toLowerCase();
  return e.key;
}

// shortcutOf says which action a key press asks for, if any. Modifiers must
// be exactly those of the binding, so that Ctrl+Shift+D stays the browser's.
// Shift is not looked at for "?" and "/", which some layouts type with it.
export function shortcutOf(e: KeyPress, mac: boolean): ShortcutAction | null {
  const key = letterOf(e);
  for (const b of bindings(mac)) {
    if (key !== b.key) continue;
    const letter = /^[a-z]$/.test(b.key);
    if (letter && e.shiftKey) continue;
    if (e.ctrlKey !== b.modifiers.includes('ctrl') || e.altKey !== b.modifiers.includes('alt') || e.metaKey !== b.modifiers.includes('meta')) continue;
    return b.action;
  }
  return null;
}

const textInputTypes = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'datetime-local', 'month', 'time', 'week']);

// isTyping says whether keys go to a text field, where they are the user's
// text and not shortcuts.
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && textInputTypes.has(target.type);
}

export type ShortcutHandlers = Record<ShortcutAction, () => void> & {
  escape: () => void; // closes what is open, if anything
};

// useShortcuts runs the meeting's shortcuts while the component is shown.
// While a modal dialog is open it does nothing: the dialog has the keyboard.
export function useShortcuts(handlers: ShortcutHandlers) {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const mac = isMac();
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing || document.querySelector('dialog[open]')) return;
      if (e.key === 'Escape') {
        latest.current.escape();
        return;
      }
      if (isTyping(e.target)) return;
      const action = shortcutOf(e, mac);
      if (!action) return;
      e.preventDefault(); // Ctrl+D would bookmark the page
      if (!e.repeat) latest.current[action]();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

const descriptions: Record<ShortcutAction, MessageKey> = {
  microphone: 'shortcuts.microphone',
  camera: 'shortcuts.camera',
  hand: 'shortcuts.hand',
  chat: 'shortcuts.chat',
  help: 'shortcuts.help',
};

export interface ShortcutHelp {
  description: string;
  chords: string[][]; // each one a way to do it, as the keys to press together
}

// shortcutHelp lists the shortcuts in the user's language, from the same
// bindings that run them.
export function shortcutHelp(mac: boolean): ShortcutHelp[] {
  const names: Record<Modifier, string> = mac ? { ctrl: '⌃', alt: '⌥', meta: '⌘' } : { ctrl: t('key.ctrl'), alt: 'Alt', meta: 'Meta' };
  const out: ShortcutHelp[] = [];
  for (const b of bindings(mac)) {
    const chord = [...b.modifiers.map((m) => names[m]), b.key.toUpperCase()];
    const description = t(descriptions[b.action]);
    const same = out.find((h) => h.description === description);
    if (same) same.chords.push(chord);
    else out.push({ description, chords: [chord] });
  }
  out.push({ description: t('shortcuts.escape'), chords: [[t('key.escape')]] });
  return out;
}
