import { useState } from 'preact/hooks';
import { lang, setLang, t } from '../i18n';
import { parseRoomCode } from '../roomcode';
import { navigate } from '../router';

export function Home({ onLanguage }: { onLanguage: () => void }) {
  const [input, setInput] = useState('');
  const [badCode, setBadCode] = useState(false);
  const [creating, setCreating] = useState(false);
  const [createFailed, setCreateFailed] = useState(false);

  const create = async () => {
    setCreating(true);
    setCreateFailed(false);
    try {
      const res = await fetch('/api/v1/rooms', { method: 'POST' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { path } = (await res.json()) as { path: string };
      navigate(path);
    } catch {
      setCreateFailed(true);
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
        <button
          type="button"
          class="link"
          lang={lang() === 'fr' ? 'en' : 'fr'}
          aria-label={t('lang.switchLabel')}
          onClick={() => {
            setLang(lang() === 'fr' ? 'en' : 'fr');
            onLanguage();
          }}
        >
          {t('lang.switch')}
        </button>
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
      </div>
    </main>
  );
}
