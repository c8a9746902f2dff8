/**
 * Version filtering by the kernel's policy engine: `@v/list` leaves out the versions the caller may
 * not download (blocked ones; too-young ones where the publish time is known, as for local
 * modules), so that the go command picks an allowed version. An unchanged list is served as it was.
 */
import type { Identity, RegistryContext, VersionSummary } from '@batlehub/sdk'
import { compareVersions } from './module.ts'

interface Parsed {
  readonly versions: VersionSummary[]
  readonly rendered: Map<string, string>
}

/** Parsed upstream lists, per cached body buffer. */
const lists = new WeakMap<Buffer, Parsed>()

function parse(versions: readonly string[], times?: ReadonlyMap<string, string>): Parsed {
  const sorted = [...new Set(versions)].sort(compareVersions).reverse()
  return {
    versions: sorted.map((v) => ({ version: v, ...(times?.get(v) ? { publishedAt: times.get(v)! } : {}), prerelease: /^v\d+\.\d+\.\d+-/.test(v) })),
    rendered: new Map(),
  }
}

function filter(ctx: RegistryContext<any>, identity: Identity, module: string, parsed: Parsed, original: readonly string[]): string | null {
  const f = ctx.policy.filterVersions({ identity, name: module, versions: parsed.versions })
  if (!f.changed) return null
  let body = parsed.rendered.get(f.fingerprint)
  if (body === undefined) {
    const denied = new Set(f.denied.map((d) => d.version))
    body = original.filter((v) => !denied.has(v)).map((v) => `${v}\n`).join('')
    parsed.rendered.set(f.fingerprint, body)
  }
  return body
}

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean)

/** A cached upstream `@v/list` for this caller: null when it is served unchanged. */
export function filterCachedList(ctx: RegistryContext<any>, identity: Identity, module: string, body: Buffer): string | null {
  let parsed = lists.get(body)
  if (!parsed) {
    parsed = parse(lines(body.toString('utf8')))
    lists.set(body, parsed)
  }
  return filter(ctx, identity, module, parsed, lines(body.toString('utf8')))
}

/** A rendered list (local, or local merged with the upstream) for this caller. */
export function filterList(ctx: RegistryContext<any>, identity: Identity, module: string, versions: readonly string[], times: ReadonlyMap<string, string>): readonly string[] {
  const f = ctx.policy.filterVersions({ identity, name: module, versions: parse(versions, times).versions })
  if (!f.changed) return versions
  const denied = new Set(f.denied.map((d) => d.version))
  return versions.filter((v) => !denied.has(v))
}
