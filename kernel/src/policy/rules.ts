/**
 * The per-registry rules of `[[registries.rules]]` (seed "Rules"), compiled once per registry and
 * evaluated without I/O on every download.
 *
 * - `release_age_gate`: a version published less than `min_age_secs` ago is refused. A version
 *   without a publish time is let through (seed: "When absent, the release age gate is skipped
 *   rather than blocking access"); the audit entry says so.
 * - `deny_latest`: a request for exactly the tag `latest` (or `@latest`, as in Go's proxy protocol)
 *   is refused, so that clients pin versions. Only the exact, case-sensitive string counts (seed
 *   fuzz target `fuzz_deny_latest`): `Latest`, `latest-1` or `1.0.0-latest` are versions like any other.
 *
 * `bypass_roles` lists the roles a rule does not apply to (typically `["admin"]`).
 */
import type { Role } from '@batlehub/sdk'

/** A rule as validated config gives it. */
export type RuleInput =
  | { readonly kind: 'release_age_gate'; readonly min_age_secs: number; readonly bypass_roles: readonly string[] }
  | { readonly kind: 'deny_latest'; readonly bypass_roles: readonly string[] }

/** Rule names as they appear in audit entries, events and metrics. */
export const RULE = Object.freeze({
  blocklist: 'blocklist',
  releaseAgeGate: 'release_age_gate',
  denyLatest: 'deny_latest',
  rbac: 'rbac',
  rateLimit: 'rate_limit',
  ipBlock: 'ip_block',
})

/** The result of evaluating a request. `reason` on an allow carries notes (bypass, skipped gate). */
export interface Decision {
  readonly outcome: 'allow' | 'deny'
  readonly rule: string | null
  readonly reason: string | null
}

interface AgeGate {
  readonly minAgeMs: number
  readonly minAgeSecs: number
  readonly bypass: ReadonlySet<string>
}

/** Whether a requested version or tag is the `latest` tag deny_latest refuses. */
export function isLatestTag(value: string | undefined): boolean {
  return value === 'latest' || value === '@latest'
}

/** Parses an ISO-8601 publish time; NaN when absent or unparseable. */
export function publishTime(publishedAt: string | undefined): number {
  return publishedAt ? Date.parse(publishedAt) : NaN
}

/** "3h 5m", "42s": a short human duration for refusal messages. */
export function humanDuration(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000))
  const d = Math.floor(s / 86400); s -= d * 86400
  const h = Math.floor(s / 3600); s -= h * 3600
  const m = Math.floor(s / 60); s -= m * 60
  const parts: string[] = []
  if (d) parts.push(`${d}d`)
  if (h) parts.push(`${h}h`)
  if (m) parts.push(`${m}m`)
  if (s || parts.length === 0) parts.push(`${s}s`)
  return parts.slice(0, 2).join(' ')
}

export class CompiledRules {
  readonly ageGates: readonly AgeGate[]
  readonly denyLatest: readonly ReadonlySet<string>[]
  /** Whether any rule exists at all (the fast path skips everything when not). */
  readonly any: boolean

  constructor(rules: readonly RuleInput[]) {
    const gates: AgeGate[] = []
    const latest: ReadonlySet<string>[] = []
    for (const r of rules) {
      if (r.kind === 'release_age_gate') gates.push({ minAgeMs: r.min_age_secs * 1000, minAgeSecs: r.min_age_secs, bypass: new Set(r.bypass_roles) })
      else if (r.kind === 'deny_latest') latest.push(new Set(r.bypass_roles))
    }
    this.ageGates = gates
    this.denyLatest = latest
    this.any = gates.length > 0 || latest.length > 0
  }

  /**
   * The strictest age gate that applies to a role, in milliseconds; 0 when none applies (no gate,
   * or every gate is bypassed by the role).
   */
  minAgeFor(role: Role): number {
    let min = 0
    for (const g of this.ageGates) if (!g.bypass.has(role) && g.minAgeMs > min) min = g.minAgeMs
    return min
  }

  /** Whether deny_latest applies to a role. */
  deniesLatestFor(role: Role): boolean {
    for (const bypass of this.denyLatest) if (!bypass.has(role)) return true
    return false
  }

  /**
   * Evaluates one request: the version (or tag) it names and the version's publish time.
   * The first refusing rule wins: deny_latest, then the age gate.
   */
  evaluate(input: { role: Role; version?: string; requestedTag?: string; publishedAt?: string; now: number }): Decision {
    if (!this.any) return ALLOW
    const notes: string[] = []
    if (isLatestTag(input.requestedTag) || isLatestTag(input.version)) {
      for (const bypass of this.denyLatest) {
        if (bypass.has(input.role)) {
          notes.push(`deny_latest bypassed by role ${input.role}`)
          continue
        }
        return {
          outcome: 'deny',
          rule: RULE.denyLatest,
          reason: 'the "latest" tag is refused on this registry (deny_latest): request an exact version',
        }
      }
    }
    if (this.ageGates.length && input.version !== undefined && !isLatestTag(input.version)) {
      const published = publishTime(input.publishedAt)
      for (const gate of this.ageGates) {
        if (gate.bypass.has(input.role)) {
          notes.push(`release_age_gate bypassed by role ${input.role}`)
          continue
        }
        if (Number.isNaN(published)) {
          notes.push(input.publishedAt ? `release_age_gate skipped: unparseable publish time ${JSON.stringify(input.publishedAt)}` : 'release_age_gate skipped: no publish time')
          continue
        }
        const age = input.now - published
        if (age < gate.minAgeMs) {
          return {
            outcome: 'deny',
            rule: RULE.releaseAgeGate,
            reason: `version ${input.version} was published ${humanDuration(age)} ago; this registry only serves versions older than ${humanDuration(gate.minAgeMs)} (release_age_gate, allowed from ${new Date(published + gate.minAgeMs).toISOString()})`,
          }
        }
      }
    }
    return notes.length ? { outcome: 'allow', rule: null, reason: [...new Set(notes)].join('; ') } : ALLOW
  }
}

export const ALLOW: Decision = Object.freeze({ outcome: 'allow', rule: null, reason: null })
