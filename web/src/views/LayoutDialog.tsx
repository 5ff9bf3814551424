import { useId } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { layouts, receptions, type Layout, type Reception } from '../layout';
import { Dialog } from './Dialog';

const layoutText: Record<Layout, [MessageKey, MessageKey]> = {
  auto: ['layout.auto', 'layout.autoHint'],
  grid: ['layout.grid', 'layout.gridHint'],
  speaker: ['layout.speaker', 'layout.speakerHint'],
};
const receptionText: Record<Reception, [MessageKey, MessageKey]> = {
  all: ['reception.all', 'reception.allHint'],
  speaker: ['reception.speaker', 'reception.speakerHint'],
  audio: ['reception.audio', 'reception.audioHint'],
};

// Choice is a radio button named by its label and described by its hint.
function Choice({ name, text, checked, onChoose }: { name: string; text: [MessageKey, MessageKey]; checked: boolean; onChoose: () => void }) {
  const id = useId();
  return (
    <div class="choice">
      <input type="radio" id={id} name={name} checked={checked} aria-describedby={`${id}-hint`} onChange={onChoose} />
      <label for={id}>{t(text[0])}</label>
      <span class="hint" id={`${id}-hint`}>
        {t(text[1])}
      </span>
    </div>
  );
}

// LayoutDialog lets each participant choose, for themselves only, how the
// meeting is laid out and which videos they receive. A choice applies at
// once; the dialog stays open to try another.
export function LayoutDialog({
  layout,
  reception,
  onLayout,
  onReception,
  onClose,
}: {
  layout: Layout;
  reception: Reception;
  onLayout: (l: Layout) => void;
  onReception: (r: Reception) => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={t('layout.title')} onClose={onClose} class="layout-dialog">
      <fieldset>
        <legend>{t('layout.legend')}</legend>
        {layouts.map((l) => (
          <Choice key={l} name="layout" text={layoutText[l]} checked={layout === l} onChoose={() => onLayout(l)} />
        ))}
      </fieldset>
      <fieldset>
        <legend>{t('reception.legend')}</legend>
        {receptions.map((r) => (
          <Choice key={r} name="reception" text={receptionText[r]} checked={reception === r} onChoose={() => onReception(r)} />
        ))}
      </fieldset>
      <div class="row dialog-actions">
        <button type="button" class="primary" onClick={onClose}>
          {t('layout.close')}
        </button>
      </div>
    </Dialog>
  );
}

// Pager moves through the pages of tiles; the page number is read out when
// it changes. Its buttons stay focusable at the ends (aria-disabled), so
// that focus does not fall out of it on the last page.
export function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (p: number) => void }) {
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label={t('pages.label')}>
      <button type="button" class="small" aria-disabled={page === 0} aria-label={t('pages.previous')} title={t('pages.previous')} onClick={() => page > 0 && onPage(page - 1)}>
        <span aria-hidden="true">‹</span>
      </button>
      <span aria-live="polite">{t('pages.of', { page: String(page + 1), pages: String(pages) })}</span>
      <button type="button" class="small" aria-disabled={page === pages - 1} aria-label={t('pages.next')} title={t('pages.next')} onClick={() => page < pages - 1 && onPage(page + 1)}>
        <span aria-hidden="true">›</span>
      </button>
    </nav>
  );
}
