// The app's language: which of its four tables (French, the default and the
// reference, English, German, Dutch; in locales/) the user gets, and t() to
// look a string up.

import { de } from './locales/de';
import { en } from './locales/en';
import { fr } from './locales/fr';
import { nl } from './locales/nl';

export type MessageKey = keyof typeof fr;

export type Lang = 'fr' | 'en' | 'de' | 'nl';
const tables: Record<Lang, Record<MessageKey, string>> = { fr, en, de, nl };
const storageKey = 'visio.lang';

function isLang(l: string | null | undefined): l is Lang {
  return l !== null && l !== undefined && Object.hasOwn(tables, l);
}

// pickLanguage takes the first of the user's languages that the app speaks
// (de-AT is German, nl-BE Dutch), and French otherwise. A choice made in the
// app wins.
export function pickLanguage(preferred: readonly string[], saved: string | null): Lang {
  if (isLang(saved)) return saved;
  for (const l of preferred) {
    const base = l.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'fr';
}

let current: Lang = pickLanguage(navigator.languages ?? [navigator.language], safeStorageGet(storageKey));
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang) {
  current = l;
  document.documentElement.lang = l;
  safeStorageSet(storageKey, l);
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return (tables[current][key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function safeStorageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

// safeStorageSet keeps a choice for the next visits; in private browsing it
// lasts for this page only.
export function safeStorageSet(key: string, value: string) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage refused: nothing to keep it in
  }
}
