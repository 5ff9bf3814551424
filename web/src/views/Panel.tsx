import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { t } from '../i18n';

// Panel is a side panel of the meeting (participants, lobby). Opening it
// takes focus to its heading, so that screen readers start reading there;
// Escape or its close button shuts it and focus goes back to the button
// that opened it.
export function Panel({ title, onClose, children, id, class: cls }: { title: string; onClose: () => void; children: ComponentChildren; id: string; class?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const titleId = useId();
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    heading.current?.focus();
    return () => {
      // Only when focus was in the panel: it must not jump from elsewhere.
      if (opener?.isConnected && (!document.activeElement || document.activeElement === document.body)) opener.focus();
    };
  }, []);
  return (
    <aside
      id={id}
      class={`panel ${cls ?? ''}`}
      aria-labelledby={titleId}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !(e.target instanceof HTMLElement && e.target.closest('dialog'))) {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div class="panel-header">
        <h2 id={titleId} tabIndex={-1} ref={heading}>
          {title}
        </h2>
        <button type="button" class="link light" onClick={onClose} aria-label={t('panel.close', { title })}>
          {t('panel.closeShort')}
        </button>
      </div>
      {children}
    </aside>
  );
}
