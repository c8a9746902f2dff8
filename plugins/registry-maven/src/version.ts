/**
 * Maven version ordering: a port of Maven's `ComparableVersion` (maven-artifact 3.8), the order
 * `mvn` itself uses for `latest`/`release`, version ranges and `versions:display-dependency-updates`.
 *
 * `1.0-alpha-1 < 1.0-beta < 1.0-milestone-1 < 1.0-rc-1 < 1.0-SNAPSHOT < 1.0 = 1.0.0 = 1.0-ga < 1.0-sp < 1.0.1`;
 * unknown qualifiers sort after `sp`, lexically.
 */

type Item =
  | { kind: 'int'; value: bigint }
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: Item[] }

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp']
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' }
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''))

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q)
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i)
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function stringItem(value: string, followedByDigit: boolean): Item {
  // "1.0a1" means 1.0-alpha-1: single letters before a digit are abbreviations.
  if (followedByDigit && value.length === 1) {
    if (value === 'a') value = 'alpha'
    else if (value === 'b') value = 'beta'
    else if (value === 'm') value = 'milestone'
  }
  return { kind: 'string', value: ALIASES[value] ?? value }
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? { kind: 'int', value: BigInt(buf) } : stringItem(buf, false)
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return item.value === 0n
  if (item.kind === 'string') return comparableQualifier(item.value) === RELEASE_INDEX
  return item.items.length === 0
}

function normalize(list: Item & { kind: 'list' }): void {
  // Trailing "null" items (0, "", "final", "ga", empty lists) carry no meaning: 1.0.0 == 1.
  for (let i = list.items.length - 1; i >= 0; i--) {
    const last = list.items[i]!
    if (isNull(last)) list.items.splice(i, 1)
    else if (last.kind !== 'list') break
  }
}

/** Parses a version into Maven's item tree. */
function parse(version: string): Item & { kind: 'list' } {
  const v = version.toLowerCase()
  const root: Item & { kind: 'list' } = { kind: 'list', items: [] }
  let list = root
  const stack: Array<Item & { kind: 'list' }> = [root]
  let isDigit = false
  let start = 0
  const push = () => {
    const next: Item & { kind: 'list' } = { kind: 'list', items: [] }
    list.items.push(next)
    list = next
    stack.push(next)
  }
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!
    if (c === '.' || c === '-') {
      if (i === start) list.items.push({ kind: 'int', value: 0n })
      else list.items.push(parseItem(isDigit, v.slice(start, i)))
      start = i + 1
      if (c === '-') push()
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        list.items.push(stringItem(v.slice(start, i), true))
        start = i
        push()
      }
      isDigit = true
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, v.slice(start, i)))
        start = i
        push()
      }
      isDigit = false
    }
  }
  if (v.length > start) list.items.push(parseItem(isDigit, v.slice(start)))
  while (stack.length) normalize(stack.pop()!)
  return root
}

function compareItems(a: Item, b: Item | null): number {
  if (a.kind === 'int') {
    if (b === null) return a.value === 0n ? 0 : 1
    if (b.kind === 'int') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0
    return 1 // 1.1 > 1-sp and 1.1 > 1-1
  }
  if (a.kind === 'string') {
    if (b === null) return cmpStr(comparableQualifier(a.value), RELEASE_INDEX)
    if (b.kind === 'string') return cmpStr(comparableQualifier(a.value), comparableQualifier(b.value))
    return -1
  }
  if (b === null) return a.items.length === 0 ? 0 : compareItems(a.items[0]!, null)
  if (b.kind === 'int') return -1
  if (b.kind === 'string') return 1
  const n = Math.max(a.items.length, b.items.length)
  for (let i = 0; i < n; i++) {
    const l = a.items[i] ?? null
    const r = b.items[i] ?? null
    const result = l === null ? (r === null ? 0 : -1 * compareItems(r, l)) : compareItems(l, r)
    if (result !== 0) return result
  }
  return 0
}

/** Compares two Maven versions the way Maven does: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  return compareItems(parse(a), parse(b))
}

/** Sorts versions ascending by Maven order (a new array). */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions)
}

/** A SNAPSHOT (moving development) version: `1.0-SNAPSHOT`, or a timestamped build of one. */
export function isSnapshot(version: string): boolean {
  return version.endsWith('-SNAPSHOT') || TIMESTAMPED.test(version)
}

/** `1.0-20260101.120000-1`: a unique (timestamped) build of `1.0-SNAPSHOT`. */
export const TIMESTAMPED = /^(.+)-(\d{8}\.\d{6})-(\d+)$/

/**
 * Whether a version is a pre-release: a SNAPSHOT, or one whose qualifiers sort before the release
 * (`alpha`, `beta`, `milestone`, `rc`/`cr`, and their one-letter forms `a1`, `b2`, `m3`).
 */
export function isPrerelease(version: string): boolean {
  if (isSnapshot(version)) return true
  const walk = (list: Item & { kind: 'list' }): boolean =>
    list.items.some((it) => {
      if (it.kind === 'list') return walk(it)
      if (it.kind !== 'string') return false
      const i = QUALIFIERS.indexOf(it.value)
      return i !== -1 && i < QUALIFIERS.indexOf('snapshot')
    })
  return walk(parse(version))
}
