import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { reactionEmoji, type ReactionEmoji } from '../protocol';
import type { MeetingSession } from '../session';
import { ReactIcon } from './icons';

const reactionName: Record<ReactionEmoji, MessageKey> = {
  '👍': 'reaction.thumbsUp',
  '👏': 'reaction.clap',
  '😂': 'reaction.laugh',
  '❤️': 'reaction.heart',
  '🎉': 'reaction.party',
  '😮': 'reaction.surprise',
  '🤔': 'reaction.thinking',
  '🙏': 'reaction.thanks',
};

// How long a reaction floats over its sender's tile, and how many may at
// once: a burst of clicks must not cover the video.
export const reactionShownMs = 3000;
const maxShownPerTile = 4;
// A screen reader hears someone's reactions at most this often.
const announceEveryMs = 5000;

// ShownReaction is a reaction on a tile; seq tells two equal ones apart.
export interface ShownReaction {
  emoji: string;
  seq: number;
}

// ReactionButton opens the picker of reactions. The picker is a menu:
// arrow keys, Home and End move between its emoji, Enter sends one, Escape
// and Tab close it; focus then goes back to the button.
export function ReactionButton({ session }: { session: MeetingSession }) {
  const [open, setOpen] = useState(false);
  const [focused, setFocused] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const items = useRef<(HTMLButtonElement | null)[]>([]);
  const menuId = useId();

  useEffect(() => {
    if (open) items.current[focused]?.focus();
  }, [open, focused]);

  // A click elsewhere closes the picker.
  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      if (!wrapper.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const last = reactionEmoji.length - 1;
    const moves: Record<string, number> = {
      ArrowRight: focused === last ? 0 : focused + 1,
      ArrowDown: focused === last ? 0 : focused + 1,
      ArrowLeft: focused === 0 ? last : focused - 1,
      ArrowUp: focused === 0 ? last : focused - 1,
      Home: 0,
      End: last,
    };
    if (e.key in moves) {
      e.preventDefault();
      setFocused(moves[e.key]!);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation(); // an open side panel stays open
      close();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  return (
    <div class="reaction-control" ref={wrapper}>
      <button
        ref={button}
        type="button"
        class={`round ${open ? 'active' : ''}`}
        aria-label={t('reaction.button')}
        title={t('reaction.button')}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => {
          setFocused(0);
          setOpen(!open);
        }}
      >
        <ReactIcon />
      </button>
      {open && (
        <div id={menuId} class="reaction-picker" role="menu" aria-label={t('reaction.picker')} aria-orientation="horizontal" onKeyDown={onKeyDown}>
          {reactionEmoji.map((emoji, i) => (
            <button
              key={emoji}
              ref={(el) => {
                items.current[i] = el;
              }}
              type="button"
              role="menuitem"
              tabIndex={i === focused ? 0 : -1}
              aria-label={t(reactionName[emoji])}
              title={t(reactionName[emoji])}
              onClick={() => {
                session.chat.react(emoji);
                close();
              }}
            >
              <span aria-hidden="true">{emoji}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

// useReactions keeps, for each participant, the reactions they sent in the
// last few seconds, for their tile to show, and has screen readers told
// who reacted (each person at most every few seconds, so that a burst is
// not read out one by one).
export function useReactions(session: MeetingSession, nameOf: (id: string) => string | undefined, announce: (text: string) => void): Map<string, ShownReaction[]> {
  const [shown, setShown] = useState(new Map<string, ShownReaction[]>());
  const seq = useRef(0);
  const lastAnnounced = useRef(new Map<string, number>());
  const names = useRef(nameOf);
  names.current = nameOf;
  const say = useRef(announce);
  say.current = announce;

  useEffect(() => {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const off = session.chat.onReaction((participant, emoji) => {
      const reaction = { emoji, seq: ++seq.current };
      setShown((m) => new Map(m).set(participant, [...(m.get(participant) ?? []), reaction].slice(-maxShownPerTile)));
      const timer = setTimeout(() => {
        timers.delete(timer);
        setShown((m) => {
          const left = (m.get(participant) ?? []).filter((r) => r !== reaction);
          const next = new Map(m);
          if (left.length > 0) next.set(participant, left);
          else next.delete(participant);
          return next;
        });
      }, reactionShownMs);
      timers.add(timer);

      const now = Date.now();
      const name = names.current(participant);
      if (name === undefined || now - (lastAnnounced.current.get(participant) ?? 0) < announceEveryMs) return;
      lastAnnounced.current.set(participant, now);
      say.current(t('reaction.reacted', { name, emoji }));
    });
    return () => {
      off();
      timers.forEach(clearTimeout);
    };
  }, [session]);

  return shown;
}
