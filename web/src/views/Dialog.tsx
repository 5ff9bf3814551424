import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { t } from '../i18n';

// Dialog is a modal dialog, shown while it is rendered. The browser's
// <dialog> keeps focus inside it, makes the rest of the page inert and
// closes it with Escape; focus then goes back to what had it before, the
// button that opened it.
export function Dialog({ title, onClose, children, class: cls }: { title: string; onClose: () => void; children: ComponentChildren; class?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog?.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={`dialog ${cls ?? ''}`}
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault(); // the view decides when the dialog goes away
        onClose();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </dialog>
  );
}

// Confirm asks before an action that cannot be undone. Focus starts on
// Cancel, so that a hurried Enter does no harm.
export function Confirm({ title, text, confirm, onConfirm, onClose }: { title: string; text: string; confirm: string; onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog title={title} onClose={onClose} class="confirm">
      <p>{text}</p>
      <div class="row dialog-actions">
        <button type="button" autofocus onClick={onClose}>
          {t('dialog.cancel')}
        </button>
        <button
          type="button"
          class="primary danger"
          onClick={() => {
            onConfirm();
            onClose();
          }}
        >
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
