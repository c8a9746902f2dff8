/**
 * The policy of one registry instance: `ctx.policy` as its plugin sees it (RBAC from the host,
 * blocklist and rules from the engine).
 */
import { createHash } from 'node:crypto'
import {
  NotAllowedError,
  type ArtifactCheck, type BlockedVersionInfo, type Identity, type Permission, type PolicyDenial, type PolicyService,
  type VersionFilterInput, type VersionFilterResult, type VersionSummary,
} from '@batlehub/sdk'
import { CompiledRules, RULE, humanDuration, publishTime, type Decision, type RuleInput } from './rules.ts'
import type { PolicyEngine } from './engine.ts'

/** Publish times of a version list, parsed once per list object. */
interface ParsedTimes {
  /** Epoch ms per index; NaN when unknown. */
  readonly times: Float64Array
  /** The newest known publish time; -Infinity when none is known. */
  readonly newest: number
}

const parsedTimes = new WeakMap<readonly VersionSummary[], ParsedTimes>()

function timesOf(versions: readonly VersionSummary[]): ParsedTimes {
  let parsed = parsedTimes.get(versions)
  if (!parsed) {
    const times = new Float64Array(versions.length)
    let newest = -Infinity
    for (let i = 0; i < versions.length; i++) {
      const t = publishTime(versions[i]!.publishedAt)
      times[i] = t
      if (t > newest) newest = t
    }
    parsed = { times, newest }
    parsedTimes.set(versions, parsed)
  }
  return parsed
}

/** Whether a version is a pre-release when the plugin did not say: a semver pre-release part. */
function isPrerelease(v: VersionSummary): boolean {
  return v.prerelease ?? /^\d+(\.\d+)*-/.test(v.version)
}

const EMPTY_TAGS: Readonly<Record<string, string>> = Object.freeze({})
const NO_DENIALS: readonly PolicyDenial[] = Object.freeze([])

export interface RegistryPolicyOptions {
  registry: string
  rules: readonly RuleInput[]
  normalize: (name: string) => string
  can: (identity: Identity, permission: Permission) => boolean
  assert: (identity: Identity, permission: Permission) => void
}

export class RegistryPolicy implements PolicyService {
  readonly registry: string
  readonly rules: CompiledRules
  private readonly normalize: (name: string) => string

  constructor(private readonly engine: PolicyEngine, private readonly o: RegistryPolicyOptions) {
    this.registry = o.registry
    this.rules = new CompiledRules(o.rules)
    this.normalize = o.normalize
  }

  /** The registry's canonical form of a package name (the plugin's `normalizeName` hook). */
  normalizeName(name: string): string {
    return this.normalize(name)
  }

  can(identity: Identity, permission: Permission): boolean {
    return this.o.can(identity, permission)
  }

  assert(identity: Identity, permission: Permission): void {
    this.o.assert(identity, permission)
  }

  /** The decision for one request, without recording it. */
  decide(check: ArtifactCheck): Decision {
    const name = this.normalize(check.name)
    if (check.version !== undefined) {
      const block = this.engine.blocklist.get(this.registry, name, check.version)
      if (block) {
        return {
          outcome: 'deny',
          rule: RULE.blocklist,
          reason: `version ${check.version} of ${check.name} is blocked on this registry${block.reason ? `: ${block.reason}` : ''}`,
        }
      }
    }
    return this.rules.evaluate({
      role: check.identity.role,
      version: check.version,
      requestedTag: check.requestedTag,
      publishedAt: check.publishedAt,
      now: this.engine.clock.now(),
    })
  }

  async checkArtifact(check: ArtifactCheck): Promise<void> {
    this.enforce(check)
  }

  /** {@link checkArtifact} without the promise, for kernel engines on the hot path. */
  enforce(check: ArtifactCheck): void {
    const decision = this.decide(check)
    this.engine.recordArtifactDecision(this.registry, check, decision)
    if (decision.outcome === 'deny') {
      throw new NotAllowedError(decision.reason ?? 'refused by policy', { details: { rule: decision.rule, reason: decision.reason } })
    }
  }

  blocked(name: string, version: string): BlockedVersionInfo | null {
    const b = this.engine.blocklist.get(this.registry, this.normalize(name), version)
    return b ? { version: b.version, reason: b.reason, blockedBy: b.blockedBy, blockedAt: b.blockedAt } : null
  }

  mayFilter(input: { identity: Identity; name: string }): boolean {
    if (this.engine.blocklist.forPackage(this.registry, this.normalize(input.name))) return true
    if (!this.rules.any) return false
    return this.rules.minAgeFor(input.identity.role) > 0 || this.rules.deniesLatestFor(input.identity.role)
  }

  minReleaseAgeSecs(identity: Identity): number {
    return this.rules.any ? this.rules.minAgeFor(identity.role) / 1000 : 0
  }

  filterVersions(input: VersionFilterInput): VersionFilterResult {
    const role = input.identity.role
    const tags = input.tags ?? EMPTY_TAGS
    const blocks = this.engine.blocklist.forPackage(this.registry, this.normalize(input.name))
    const minAge = this.rules.any ? this.rules.minAgeFor(role) : 0
    const dropLatest = input.tags !== undefined && this.rules.any && this.rules.deniesLatestFor(role) && Object.hasOwn(tags, 'latest')
    if (!blocks && minAge === 0 && !dropLatest) return unchanged(input.versions, tags)
    const now = this.engine.clock.now()
    const cutoff = now - minAge
    const parsed = minAge > 0 ? timesOf(input.versions) : undefined
    // Nothing young and nothing blocked: the common case with an age gate configured.
    if (!blocks && !dropLatest && !(parsed!.newest > cutoff)) return unchanged(input.versions, tags)

    const versions = input.versions
    const denied: PolicyDenial[] = []
    const deniedAt = new Uint8Array(versions.length)
    const allowed: VersionSummary[] = []
    for (let i = 0; i < versions.length; i++) {
      const v = versions[i]!
      const block = blocks?.get(v.version)
      if (block) {
        denied.push({ version: v.version, rule: RULE.blocklist, reason: `blocked${block.reason ? `: ${block.reason}` : ''}` })
        deniedAt[i] = 1
        continue
      }
      if (parsed && parsed.times[i]! > cutoff) {
        denied.push({
          version: v.version,
          rule: RULE.releaseAgeGate,
          reason: `published ${humanDuration(now - parsed.times[i]!)} ago; allowed from ${new Date(parsed.times[i]! + minAge).toISOString()}`,
        })
        deniedAt[i] = 1
        continue
      }
      allowed.push(v)
    }
    if (denied.length === 0 && !dropLatest) return unchanged(versions, tags)

    const outTags: Record<string, string> = {}
    const movedTags: Record<string, string | null> = {}
    let deniedIndex: Map<string, number> | undefined
    for (const [tag, target] of Object.entries(tags)) {
      if (tag === 'latest' && dropLatest) {
        movedTags[tag] = null
        continue
      }
      deniedIndex ??= new Map(versions.map((v, i) => [v.version, i] as const).filter(([, i]) => deniedAt[i] === 1))
      const at = deniedIndex.get(target)
      if (at === undefined) {
        outTags[tag] = target
        continue
      }
      const replacement = nextAllowed(versions, deniedAt, at)
      movedTags[tag] = replacement
      if (replacement !== null) outTags[tag] = replacement
    }
    const fingerprint = createHash('sha256')
      .update(denied.map((d) => `${d.rule}:${d.version}`).join('\n'))
      .update('\u0000')
      .update(JSON.stringify(Object.entries(outTags).sort()))
      .digest('base64url')
      .slice(0, 16)
    return { changed: true, allowed, denied, tags: outTags, movedTags, fingerprint }
  }
}

/** The first allowed, non-yanked version after `at` (older), stable when the old target was stable. */
function nextAllowed(versions: readonly VersionSummary[], deniedAt: Uint8Array, at: number): string | null {
  const wantStable = !isPrerelease(versions[at]!)
  for (let i = at + 1; i < versions.length; i++) {
    const v = versions[i]!
    if (deniedAt[i] === 1 || v.yanked) continue
    if (wantStable && isPrerelease(v)) continue
    return v.version
  }
  return null
}

function unchanged(versions: readonly VersionSummary[], tags: Readonly<Record<string, string>>): VersionFilterResult {
  return { changed: false, allowed: versions, denied: NO_DENIALS, tags, movedTags: EMPTY_TAGS, fingerprint: '' }
}
