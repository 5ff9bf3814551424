import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { t } from '../i18n';

// focusable lists what Tab may reach inside root, in document order. A
// control with a positive tabindex is rare enough here not to be sorted. A
// group of radio buttons is one stop: its checked button, or its first.
function focusable(root: HTMLElement): HTMLElement[] {
  const candidates = root.querySelectorAll<HTMLElement>(
    'a[href], button, input, select, textarea, summary, audio[controls], video[controls], [contenteditable]:not([contenteditable="false"]), [tabindex]',
  );
  const reachable = [...candidates].filter((el) => el.tabIndex >= 0 && !el.matches(':disabled') && !el.closest('[inert]') && el.getClientRects().length > 0);
  const radio = (el: HTMLElement): el is HTMLInputElement => el instanceof HTMLInputElement && el.type === 'radio' && el.name !== '';
  return reachable.filter((el) => {
    if (!radio(el)) return true;
    const group = reachable.filter((o): o is HTMLInputElement => radio(o) && o.name === el.name && o.form === el.form);
    return el === (group.find((o) => o.checked) ?? group[0]);
  });
}

// firstUseful is where focus starts: the control the view marked autofocus,
// else the first field, else the first control (often a button).
function firstUseful(root: HTMLElement): HTMLElement | undefined {
  const all = focusable(root);
  return all.find((el) => el.hasAttribute('autofocus')) ?? all.find((el) => el.matches('input, select, textarea')) ?? all[0];
}

// Dialog is a modal dialog, shown while it is rendered. The browser's
// <dialog> makes the rest of the page inert, but lets Tab go out of it to
// the browser's own controls: Tab and Shift+Tab are kept in it here, going
// round from its last control to its first and back. Focus starts on its
// first useful control; Escape closes it; focus then goes back to what had
// it before, the button that opened it.
export function Dialog({ title, onClose, children, class: cls }: { title: string; onClose: () => void; children: ComponentChildren; class?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const latestClose = useRef(onClose);
  latestClose.current = onClose;
  const unmounting = useRef(false);
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog) {
      dialog.showModal();
      firstUseful(dialog)?.focus();
    }
    return () => {
      unmounting.current = true;
      if (dialog?.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    const dialog = ref.current;
    if (!dialog || e.defaultPrevented) return; // a view that handles Tab itself
    if (e.key === 'Escape') {
      // Handled here rather than left to the cancel event, which Chrome
      // skips on a second Escape without a click in between.
      e.preventDefault();
      e.stopPropagation();
      latestClose.current();
      return;
    }
    if (e.key !== 'Tab' || e.altKey || e.ctrlKey || e.metaKey) return;
    const all = focusable(dialog);
    if (all.length === 0) {
      e.preventDefault();
      return;
    }
    const first = all[0]!;
    const last = all[all.length - 1]!;
    const at = document.activeElement;
    const outside = !(at instanceof HTMLElement) || !all.includes(at);
    if (e.shiftKey && (at === first || outside)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (at === last || outside)) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <dialog
      ref={ref}
      class={`dialog ${cls ?? ''}`}
      aria-labelledby={`${id}-title`}
      onKeyDown={onKeyDown}
      onCancel={(e) => {
        e.preventDefault(); // the view decides when the dialog goes away
        latestClose.current();
      }}
      onClose={() => {
        // Closed by the browser itself, not by the view: tell the view.
        if (!unmounting.current) latestClose.current();
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
