/**
 * The parts of an upstream `Cache-Control` header (RFC 9111 §5.2.2) a shared cache of registry
 * metadata acts on.
 */
export interface CacheDirectives {
  /** `no-store`: the response must not be stored (it is still answered). */
  noStore: boolean
  /** `no-cache`: a stored copy must be revalidated before every use. */
  noCache: boolean
  /** `s-maxage` (shared caches prefer it) or else `max-age`, in seconds. */
  maxAge?: number
}

/** Parses `Cache-Control`; unknown directives are ignored, malformed numbers too. */
export function parseCacheControl(header: string | undefined): CacheDirectives {
  const out: CacheDirectives = { noStore: false, noCache: false }
  if (!header) return out
  let maxAge: number | undefined
  let sMaxAge: number | undefined
  for (const part of header.split(',')) {
    const [rawName, ...rest] = part.split('=')
    const name = rawName!.trim().toLowerCase()
    const value = rest.join('=').trim().replace(/^"(.*)"$/, '$1')
    if (name === 'no-store') out.noStore = true
    // `no-cache="field"` only restricts those fields; only the bare form forces revalidation.
    else if (name === 'no-cache' && value === '') out.noCache = true
    else if (name === 'max-age' && /^\d+$/.test(value)) maxAge = Number(value)
    else if (name === 's-maxage' && /^\d+$/.test(value)) sMaxAge = Number(value)
  }
  const age = sMaxAge ?? maxAge
  if (age !== undefined) out.maxAge = age
  return out
}
