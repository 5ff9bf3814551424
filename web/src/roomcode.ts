// Room codes, as in internal/room: abc-defg-hij. People paste codes with or
// without hyphens, in any case, or whole links.

const letters = /^[a-z]{10}$/;

export function parseRoomCode(input: string): string | null {
  let s = input.trim();
  if (s.includes('/')) {
    try {
      s = new URL(s, location.origin).pathname;
    } catch {
      return null;
    }
    s = s.replace(/\/+$/, '');
    s = s.slice(s.lastIndexOf('/') + 1);
  }
  const compact = s.toLowerCase().replace(/[-\s]/g, '');
  if (!letters.test(compact)) return null;
  return `${compact.slice(0, 3)}-${compact.slice(3, 7)}-${compact.slice(7)}`;
}
