import { useEffect, useState } from 'preact/hooks';
import { ApiError, createRoom, fetchMe, recentRooms, signInURL, type Me, type RoomInfo } from '../api';
import { lang, setLang, t, type Lang } from '../i18n';
import { parseRoomCode } from '../roomcode';
import { followLink, navigate } from '../router';

// Each language is offered under its own name, which its speakers find
// whatever language the page is in now.
const languages: { code: Lang; name: string }[] = [
  { code: 'fr', name: 'Français' },
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'nl', name: 'Nederlands' },
];

// Home starts a meeting or joins one by its code, and shows who is signed
// in and the rooms they went to lately.
export function Home({ onLanguage }: { onLanguage: () => void }) {
  const [input, setInput] = useState('');
  const [badCode, setBadCode] = useState(false);
  const [creating, setCreating] = useState(false);
  const [createFailed, setCreateFailed] = useState(false);
  const [mustSignIn, setMustSignIn] = useState(false);
  const [me, setMe] = useState<Me | null>(null);
  const [rooms, setRooms] = useState<RoomInfo[]>([]);

  useEffect(() => {
    fetchMe().then(setMe, () => {});
    recentRooms().then(setRooms, () => {});
  }, []);

  const create = async () => {
    setCreateFailed(false);
    if (me && !me.may_create_rooms) {
      setMustSignIn(true);
      return;
    }
    setCreating(true);
    try {
      navigate((await createRoom()).path);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'sign_in_required') setMustSignIn(true);
      else setCreateFailed(true);
      setCreating(false);
    }
  };

  const join = (e: Event) => {
    e.preventDefault();
    const code = parseRoomCode(input);
    if (!code) {
      setBadCode(true);
      return;
    }
    navigate(`/${code}`);
  };

  return (
    <main class="page home">
      <header class="home-header">
        <h1>{t('app.name')}</h1>
        <div class="row">
          <Account me={me} />
          <LanguageMenu onLanguage={onLanguage} />
        </div>
      </header>
      <p class="tagline">{t('app.tagline')}</p>
      <div class="home-actions">
        <button type="button" class="primary big" onClick={create} disabled={creating}>
          {creating ? t('home.creating') : t('home.new')}
        </button>
        {createFailed && (
          <p class="error" role="alert">
            {t('home.createFailed')}
          </p>
        )}
        {mustSignIn && (
          <p class="notice" role="alert">
            {t('home.signInToCreate')} <a href={signInURL('/')}>{t('auth.signIn')}</a>
          </p>
        )}
        <form class="join-form" onSubmit={join} noValidate>
          <label for="join-code">{t('home.joinLabel')}</label>
          <div class="row">
            <input
              id="join-code"
              value={input}
              placeholder={t('home.joinPlaceholder')}
              autocomplete="off"
              spellcheck={false}
              aria-invalid={badCode}
              aria-describedby={badCode ? 'join-error' : undefined}
              onInput={(e) => {
                setInput((e.target as HTMLInputElement).value);
                setBadCode(false);
              }}
            />
            <button type="submit">{t('home.join')}</button>
          </div>
          {badCode && (
            <p id="join-error" class="error" role="alert">
              {t('home.badCode')}
            </p>
          )}
        </form>
        <p class="home-check">
          <a href="/check" onClick={(e) => followLink(e, '/check')}>
            {t('home.checkConnection')}
          </a>
        </p>
        {rooms.length > 0 && <RecentRooms rooms={rooms} />}
      </div>
    </main>
  );
}

// LanguageMenu switches the whole app to another language; setLang keeps
// the choice for the next visits. The label is in the page's language, and
// each option in its own.
function LanguageMenu({ onLanguage }: { onLanguage: () => void }) {
  return (
    <div class="home-language">
      <label for="home-language">{t('home.language')}</label>
      <select
        id="home-language"
        value={lang()}
        onChange={(e) => {
          const chosen = (e.target as HTMLSelectElement).value as Lang;
          if (chosen === lang()) return;
          setLang(chosen);
          onLanguage();
        }}
      >
        {languages.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </div>
  );
}

// Account offers to sign in, or says who is signed in with a way out.
// Signing out is a form: the server only accepts it as a POST from here.
function Account({ me }: { me: Me | null }) {
  if (!me?.sign_in_available) return null;
  if (!me.signed_in) {
    return (
      <a class="button" href={signInURL('/')}>
        {t('auth.signIn')}
      </a>
    );
  }
  return (
    <form method="post" action="/auth/logout" class="row account">
      <span>{t('auth.signedInAs', { name: me.name || me.email || '' })}</span>
      <button type="submit">{t('auth.signOut')}</button>
    </form>
  );
}

function RecentRooms({ rooms }: { rooms: RoomInfo[] }) {
  return (
    <section class="recent" aria-labelledby="recent-title">
      <h2 id="recent-title">{t('home.recent')}</h2>
      <ul>
        {rooms.map((r) => (
          <li key={r.code}>
            <a
              href={r.path}
              onClick={(e) => followLink(e, r.path)}
            >
              {r.name || r.code}
            </a>
            {r.name && <span class="hint"> · {r.code}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
