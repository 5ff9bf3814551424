import { t } from '../i18n';

export function NotFound() {
  return (
    <main class="page narrow">
      <h1>{t('notfound.title')}</h1>
      <p>{t('notfound.text')}</p>
      <p>
        <a class="button primary" href="/">
          {t('ended.home')}
        </a>
      </p>
    </main>
  );
}
