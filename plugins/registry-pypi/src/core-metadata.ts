/**
 * Core metadata (`METADATA` in a wheel's `.dist-info`, `PKG-INFO` in an sdist): RFC 822-style
 * headers, one per line, continuation lines indented, multi-use fields repeated, and an optional
 * body (the description, Metadata-Version 2.1+).
 */

/** Parsed core metadata: field names lower-cased, every value in order of appearance. */
export interface CoreMetadata {
  readonly fields: ReadonlyMap<string, readonly string[]>
  /** The message body after the blank line, if any (the long description). */
  readonly body?: string
  /** First value of a field. */
  get(field: string): string | undefined
  /** Every value of a field. */
  all(field: string): readonly string[]
}

/** Parses core metadata text. Never throws: unknown shapes yield whatever headers were readable. */
export function parseCoreMetadata(text: string): CoreMetadata {
  const fields = new Map<string, string[]>()
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  let i = 0
  let last: { name: string; index: number } | null = null
  for (; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') {
      i++
      break
    }
    if (/^[ \t]/.test(line) && last) {
      // Continuation: the description of Metadata-Version 1.x is indented by 8 spaces and "|".
      const values = fields.get(last.name)!
      values[last.index] += `\n${line.replace(/^ {1,8}\|?/, '').replace(/^\t/, '')}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const values = fields.get(name) ?? []
    values.push(value)
    fields.set(name, values)
    last = { name, index: values.length - 1 }
  }
  const rest = lines.slice(i).join('\n')
  const body = rest.trim() === '' ? undefined : rest
  return {
    fields,
    ...(body !== undefined ? { body } : {}),
    get: (f) => fields.get(f.toLowerCase())?.[0],
    all: (f) => fields.get(f.toLowerCase()) ?? [],
  }
}
