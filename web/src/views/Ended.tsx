import { useEffect, useRef, useState } from 'preact/hooks';
import { signInURL } from '../api';
import { t, type MessageKey } from '../i18n';
import { followLink } from '../router';
import type { Ended as EndedState } from '../meetingstate';

// What each way out of a meeting says, and what one can do next: join
// again, go home, reload, sign in. Reasons not listed get the generic text.
interface Screen {
  title: MessageKey;
  text?: MessageKey;
  rejoin?: MessageKey; // the label of the button that joins again
  reload?: boolean;
  signIn?: boolean;
}

const screens: Record<string, Screen> = {
  left: { title: 'ended.title', rejoin: 'ended.rejoin' },
  denied: { title: 'ended.deniedTitle', text: 'ended.denied', rejoin: 'ended.askAgain' },
  removed: { title: 'ended.removedTitle', text: 'ended.removed', rejoin: 'ended.rejoin' },
  ended: { title: 'ended.endedTitle', text: 'ended.ended', rejoin: 'ended.rejoin' },
  not_found: { title: 'ended.notFoundTitle', text: 'ended.not_found' },
  bad_token: { title: 'ended.badTokenTitle', text: 'ended.bad_token', reload: true },
  sign_in_required: { title: 'ended.signInTitle', text: 'ended.sign_in_required', signIn: true },
  rate_limited: { title: 'ended.rateLimitedTitle' },
};

// Ended is the screen after a meeting, or instead of it when the server
// refused to let us in. wasIn tells which: a ban says it differently.
export function Ended({ ended, wasIn, onRejoin }: { ended: EndedState; wasIn: boolean; onRejoin: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  let screen = screens[ended.reason];
  if (ended.reason === 'banned') {
    screen = wasIn ? { title: 'ended.removedTitle', text: 'ended.banned' } : { title: 'ended.refusedTitle', text: 'ended.bannedRefusal' };
  }
  const key = `ended.${ended.reason}` as MessageKey;
  screen ??= { title: wasIn ? 'ended.title' : 'ended.notEnteredTitle', text: t(key) !== key ? key : undefined, rejoin: 'ended.rejoin' };
  const text =
    ended.reason === 'left'
      ? null
      : ended.reason === 'rate_limited'
        ? t('ended.rate_limited', { seconds: ended.retryAfter ?? 10 })
        : screen.text
          ? t(screen.text)
          : t('ended.error', { message: ended.message || ended.reason });

  return (
    <main class="page narrow ended">
      <h1 tabIndex={-1} ref={heading}>
        {t(screen.title)}
      </h1>
      {text && <p role="alert">{text}</p>}
      <div class="row">
        {ended.reason === 'rate_limited' ? (
          <RetryLater seconds={ended.retryAfter ?? 10} onRetry={onRejoin} />
        ) : (
          screen.rejoin && (
            <button type="button" class="primary" onClick={onRejoin}>
              {t(screen.rejoin)}
            </button>
          )
        )}
        {screen.reload && (
          <button type="button" class="primary" onClick={() => location.reload()}>
            {t('ended.reload')}
          </button>
        )}
        {screen.signIn && (
          <a class="button primary" href={signInURL(location.pathname)}>
            {t('auth.signIn')}
          </a>
        )}
        <a
          class="button"
          href="/"
          onClick={(e) => followLink(e, '/')}
        >
          {t('ended.home')}
        </a>
      </div>
    </main>
  );
}

// RetryLater is a button that counts down the seconds the server asked us
// to wait, and then lets the user try again.
function RetryLater({ seconds, onRetry }: { seconds: number; onRetry: () => void }) {
  const [left, setLeft] = useState(seconds);
  useEffect(() => {
    if (left <= 0) return;
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return (
    <button type="button" class="primary" disabled={left > 0} onClick={onRetry}>
      {left > 0 ? t('ended.retryIn', { seconds: left }) : t('ended.retry')}
    </button>
  );
}
