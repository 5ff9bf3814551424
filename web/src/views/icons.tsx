// Icons are decorative: the buttons that hold them carry the label.

const svg = { width: 24, height: 24, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false' } as const;

const slash = <line x1="3" y1="3" x2="21" y2="21" />;

export function MicIcon({ off }: { off?: boolean }) {
  return (
    <svg {...svg}>
      <rect x="9" y="2" width="6" height="12" rx="3" />
      <path d="M5 10v1a7 7 0 0 0 14 0v-1M12 18v4" />
      {off && slash}
    </svg>
  );
}

export function CameraIcon({ off }: { off?: boolean }) {
  return (
    <svg {...svg}>
      <rect x="2" y="6" width="14" height="12" rx="2" />
      <path d="M16 10l6-4v12l-6-4z" />
      {off && slash}
    </svg>
  );
}

export function ScreenIcon() {
  return (
    <svg {...svg}>
      <rect x="2" y="3" width="20" height="14" rx="2" />
      <path d="M8 21h8M12 17v4M12 7v6M9 10l3-3 3 3" />
    </svg>
  );
}

export function LeaveIcon() {
  return (
    <svg {...svg}>
      <path d="M3 15c5-5 13-5 18 0l-3 3-3-2v-3a9 9 0 0 0-6 0v3l-3 2z" />
    </svg>
  );
}

// SignalIcon shows a connection's quality as one, two or three bars.
export function SignalIcon({ bars }: { bars: 1 | 2 | 3 }) {
  return (
    <svg {...svg} stroke-width={4} stroke-linecap="butt">
      <path d="M4 21v-7" />
      <path d="M12 21V9" opacity={bars >= 2 ? 1 : 0.3} />
      <path d="M20 21V3" opacity={bars >= 3 ? 1 : 0.3} />
    </svg>
  );
}

export function CaptionsIcon() {
  return (
    <svg {...svg}>
      <rect x="2" y="5" width="20" height="14" rx="2" />
      <path d="M10.5 10.2a2.2 2.2 0 1 0 0 3.6M17 10.2a2.2 2.2 0 1 0 0 3.6" />
    </svg>
  );
}

export function HandIcon({ size = 24 }: { size?: number }) {
  return (
    <svg {...svg} width={size} height={size}>
      <path d="M18 11V6a2 2 0 0 0-4 0v5M14 10V4a2 2 0 0 0-4 0v6M10 10.5V6a2 2 0 0 0-4 0v8" />
      <path d="M18 8a2 2 0 0 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.9-6-2.4l-3.6-3.6a2 2 0 0 1 2.8-2.8L6 14" />
    </svg>
  );
}

export function ReactIcon() {
  return (
    <svg {...svg}>
      <circle cx="12" cy="12" r="10" />
      <path d="M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01" />
    </svg>
  );
}

export function AttachIcon() {
  return (
    <svg {...svg} width={18} height={18}>
      <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
    </svg>
  );
}

export function FileIcon() {
  return (
    <svg {...svg}>
      <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
      <path d="M14 2v6h6" />
    </svg>
  );
}

export function PinIcon() {
  return (
    <svg {...svg} width={18} height={18}>
      <path d="M9 3h6l-1 6 4 4H6l4-4zM12 13v8" />
    </svg>
  );
}

export function LayoutIcon() {
  return (
    <svg {...svg} width={18} height={18}>
      <rect x="3" y="3" width="11" height="18" rx="1" />
      <rect x="17" y="3" width="4" height="8" rx="1" />
      <rect x="17" y="13" width="4" height="8" rx="1" />
    </svg>
  );
}
