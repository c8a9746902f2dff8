/**
 * HTTP range and conditional-request rules (RFC 9110 §13, §14) for serving stored objects.
 */

/** What a `Range` header asks of an object of a given size. */
export type RangeRequest =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

/**
 * Interprets a `Range` header. Only one `bytes` range is honoured: `a-b`, `a-` or `-n`. A missing,
 * malformed or multi-range header, or another unit, yields the full object (RFC 9110 §14.2 lets a
 * server ignore Range; multipart/byteranges replies are not worth it for package downloads).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'full' }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!m) return { kind: 'full' }
  const [, first, last] = m as unknown as [string, string, string]
  if (first === '' && last === '') return { kind: 'full' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(size - suffix, 0), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return { kind: 'full' } // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) }
}

/** The entity tags of an `If-None-Match` / `If-Match` list; `*` stays `*`. */
function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean)
}

/** Weak comparison (If-None-Match): `W/"x"` matches `"x"`. */
export function noneMatch(header: string, etag: string): boolean {
  const opaque = etag.replace(/^W\//, '')
  return tags(header).some((t) => t === '*' || t.replace(/^W\//, '') === opaque)
}

/** Whether `If-Range` lets the range apply: a strong ETag match, or exactly the Last-Modified date. */
export function ifRangeHolds(header: string, etag: string, lastModified: Date): boolean {
  const value = header.trim()
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag
  const date = Date.parse(value)
  return !Number.isNaN(date) && Math.floor(date / 1000) === Math.floor(lastModified.getTime() / 1000)
}

/** Whether an `If-Modified-Since` date says the client's copy is current. */
export function notModifiedSince(header: string, lastModified: Date): boolean {
  const date = Date.parse(header)
  return !Number.isNaN(date) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(date / 1000)
}
