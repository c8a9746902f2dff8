/** Inline SVG icons (no icon font, no external request). */
import { svg } from 'lit'

const wrap = (body: ReturnType<typeof svg>, cls = 'icon') =>
  svg`<svg class=${cls} viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`

export const icons = {
  logo: svg`<svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true"><rect width="32" height="32" rx="8" fill="#2563eb"/><path d="M9 10.5 16 7l7 3.5v11L16 25l-7-3.5z" fill="none" stroke="#fff" stroke-width="2" stroke-linejoin="round"/><path d="M9 10.5 16 14l7-3.5M16 14v11" fill="none" stroke="#93c5fd" stroke-width="2" stroke-linejoin="round"/></svg>`,
  search: wrap(svg`<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>`),
  box: (cls?: string) => wrap(svg`<path d="M21 8 12 3 3 8v8l9 5 9-5z"/><path d="m3 8 9 5 9-5M12 13v8"/>`, cls),
  alert: (cls?: string) => wrap(svg`<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/><path d="M12 9v4M12 17h.01"/>`, cls),
  lock: (cls?: string) => wrap(svg`<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>`, cls),
  check: wrap(svg`<path d="M20 6 9 17l-5-5"/>`),
  x: wrap(svg`<path d="M18 6 6 18M6 6l12 12"/>`),
  copy: wrap(svg`<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15V5a2 2 0 0 1 2-2h10"/>`),
  menu: wrap(svg`<path d="M4 6h16M4 12h16M4 18h16"/>`),
  chevronLeft: wrap(svg`<path d="m15 18-6-6 6-6"/>`),
  chevronRight: wrap(svg`<path d="m9 18 6-6-6-6"/>`),
  info: wrap(svg`<circle cx="12" cy="12" r="9"/><path d="M12 8h.01M11 12h1v5h1"/>`),
  minus: wrap(svg`<path d="M5 12h14"/>`),
}
