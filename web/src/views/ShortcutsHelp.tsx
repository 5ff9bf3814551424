import { t } from '../i18n';
import { isMac, shortcutHelp } from '../shortcuts';
import { Dialog } from './Dialog';

// ShortcutsButton opens the list of keyboard shortcuts, as "?" does; it
// shows that key, and says its purpose to screen readers.
export function ShortcutsButton({ onOpen }: { onOpen: () => void }) {
  return (
    <button type="button" class="tool" aria-haspopup="dialog" aria-label={t('shortcuts.button')} title={t('shortcuts.button')} onClick={onOpen}>
      <span aria-hidden="true">?</span>
    </button>
  );
}

// ShortcutsHelp lists the meeting's keyboard shortcuts in a modal dialog:
// focus stays in it, Escape or its button closes it, and focus goes back to
// what had it.
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const help = shortcutHelp(isMac());
  return (
    <Dialog title={t('shortcuts.title')} onClose={onClose} class="shortcuts-help">
      <p>{t('shortcuts.intro')}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('shortcuts.action')}</th>
            <th scope="col">{t('shortcuts.keys')}</th>
          </tr>
        </thead>
        <tbody>
          {help.map((h) => (
            <tr key={h.description}>
              <th scope="row">{h.description}</th>
              <td>
                {h.chords.map((chord, i) => (
                  <span key={chord.join('+')}>
                    {i > 0 && ` ${t('shortcuts.or')} `}
                    <kbd>
                      {chord.map((k, j) => (
                        <span key={k}>
                          {j > 0 && '+'}
                          <kbd>{k}</kbd>
                        </span>
                      ))}
                    </kbd>
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row dialog-actions">
        <button type="button" class="primary" autofocus onClick={onClose}>
          {t('panel.closeShort')}
        </button>
      </div>
    </Dialog>
  );
}
