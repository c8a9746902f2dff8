/**
 * Client-side routes. The kernel answers every one of these paths with index.html (history
 * fallback), so each page has a real, shareable URL.
 */
export type Route =
  | { name: 'explore'; registry?: string; q?: string; sort?: string; page?: number }
  | { name: 'package'; registry: string; pkg: string }
  | { name: 'setup' }
  | { name: 'sign-in'; next?: string }
  | { name: 'admin'; section: (typeof ADMIN_SECTIONS)[number] }
  | { name: 'not-found'; path: string }

export const ADMIN_SECTIONS = ['dashboard', 'firewall', 'audit-log', 'explore-cache', 'banner'] as const

/** Percent-encodes a path segment but keeps `@` readable (`@babel`). */
export function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%40/g, '@')
}

/** The detail page of a package; a name with slashes keeps them (`/explore/packages/npm/@types/node`). */
export function packageHref(registry: string, name: string): string {
  return `/explore/packages/${encodeSegment(registry)}/${name.split('/').map(encodeSegment).join('/')}`
}

export function exploreHref(o: { registry?: string; q?: string; sort?: string; page?: number } = {}): string {
  const u = new URLSearchParams()
  if (o.registry) u.set('registry', o.registry)
  if (o.q) u.set('q', o.q)
  if (o.sort && o.sort !== 'downloads') u.set('sort', o.sort)
  if (o.page) u.set('page', String(o.page))
  const s = u.toString()
  return s ? `/explore?${s}` : '/explore'
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export function parseRoute(pathname: string, search = ''): Route {
  const path = pathname.replace(/\/+$/, '') || '/'
  const q = new URLSearchParams(search)
  if (path === '/' || path === '/explore') {
    const page = Number(q.get('page') ?? 0)
    return {
      name: 'explore',
      registry: q.get('registry') || undefined,
      q: q.get('q') || undefined,
      sort: q.get('sort') || undefined,
      page: Number.isInteger(page) && page > 0 ? page : undefined,
    }
  }
  const pkg = /^\/explore\/packages\/([^/]+)\/(.+)$/.exec(path)
  if (pkg) return { name: 'package', registry: decode(pkg[1]!), pkg: pkg[2]!.split('/').map(decode).join('/') }
  if (path === '/setup') return { name: 'setup' }
  if (path === '/sign-in') {
    const next = q.get('next')
    return { name: 'sign-in', next: next && next.startsWith('/') && !next.startsWith('//') ? next : undefined }
  }
  if (path === '/admin') return { name: 'admin', section: 'dashboard' }
  const admin = /^\/admin\/([a-z-]+)$/.exec(path)
  if (admin && (ADMIN_SECTIONS as readonly string[]).includes(admin[1]!)) {
    return { name: 'admin', section: admin[1] as (typeof ADMIN_SECTIONS)[number] }
  }
  return { name: 'not-found', path: pathname }
}

/** Moves to a route of the app without a page load; pages listen for `bh-navigate` via the shell. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  window.dispatchEvent(new CustomEvent('bh-location-changed'))
}
