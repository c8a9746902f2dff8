/**
 * Version filtering by the kernel's policy engine (blocklist, release age gate): index files leave
 * out the versions the caller may not download, so that cargo resolves to an allowed version
 * instead of failing on the download. A file nothing applies to is served exactly as before (the
 * cache's memoised bytes); a filtered file is rendered once per policy outcome (the fingerprint).
 */
import type { Identity, RegistryContext, VersionSummary } from '@batlehub/sdk'
import { parseIndexFile, type ParsedIndexLine } from './metadata.ts'
import { isPrerelease } from './names.ts'
import { byVersionDesc } from './service.ts'

interface Parsed {
  readonly lines: ParsedIndexLine[]
  /** Newest first, as the policy engine wants them; `pubtime` is the publish time. */
  readonly versions: VersionSummary[]
  readonly rendered: Map<string, string>
}

/** Parsed index bodies, per cached body buffer (the cache hands out the same buffer while fresh). */
const parsedBodies = new WeakMap<Buffer, Parsed>()

function parse(text: string): Parsed {
  const lines = parseIndexFile(text)
  const versions = lines
    .map(({ line }) => ({
      version: line.vers,
      ...(line.pubtime ? { publishedAt: line.pubtime } : {}),
      prerelease: isPrerelease(line.vers),
      yanked: line.yanked === true,
    }))
    .sort((a, b) => byVersionDesc(a.version, b.version))
  return { lines, versions, rendered: new Map() }
}

function filter(ctx: RegistryContext<any>, identity: Identity, name: string, parsed: Parsed): string | null {
  const f = ctx.policy.filterVersions({ identity, name, versions: parsed.versions })
  if (!f.changed) return null
  let body = parsed.rendered.get(f.fingerprint)
  if (body === undefined) {
    const denied = new Set(f.denied.map((d) => d.version))
    body = parsed.lines.filter((l) => !denied.has(l.line.vers)).map((l) => `${l.raw}\n`).join('')
    parsed.rendered.set(f.fingerprint, body)
  }
  return body
}

/** A cached upstream index body for this caller: null when it is served unchanged. */
export function filterCachedIndex(ctx: RegistryContext<any>, identity: Identity, name: string, body: Buffer): string | null {
  let parsed = parsedBodies.get(body)
  if (!parsed) {
    parsed = parse(body.toString('utf8'))
    parsedBodies.set(body, parsed)
  }
  return filter(ctx, identity, name, parsed)
}

/** A rendered (local or merged) index file for this caller. */
export function filterIndexText(ctx: RegistryContext<any>, identity: Identity, name: string, text: string): string {
  return filter(ctx, identity, name, parse(text)) ?? text
}
