/**
 * The versioning policy of a local registry (`[registries.versioning]`): refused versions are 422
 * with a message naming the rule.
 */
import semver from 'semver'
import { UnprocessableError } from '@batlehub/sdk'

export interface VersioningPolicy {
  readonly enforce_semver: boolean
  readonly allow_prerelease: boolean
  readonly version_pattern?: string
}

// Pre-release markers of the common non-semver schemes: PEP 440 (`1.0a1`, `1.0rc2`, `1.0.dev3`),
// Maven (`1.0-SNAPSHOT`, `1.0-beta-2`, `1.0-M1`), RubyGems (`1.0.0.pre`), NuGet (`1.0.0-preview`).
const MARKER = /(?:^|[\d._+-])(?:alpha|beta|rc|cr|pre|preview|dev|snapshot|canary|nightly|milestone|m\d+|a\d+|b\d+)(?=$|[\d._+-])/i

/**
 * Whether a version is a pre-release: a semver pre-release tag when the version is semver, else a
 * pre-release marker of the common schemes. Plugins that know their protocol's rule pass
 * `PublishInput.prerelease` instead.
 */
export function isPrerelease(version: string): boolean {
  const parsed = semver.parse(version)
  if (parsed) return parsed.prerelease.length > 0
  return MARKER.test(version)
}

/** Compiles the policy once; `check` throws `UnprocessableError` naming the rule a version breaks. */
export function versioningPolicy(policy: VersioningPolicy): (version: string, prerelease: boolean) => void {
  const pattern = policy.version_pattern ? new RegExp(policy.version_pattern) : undefined
  return (version, prerelease) => {
    if (policy.enforce_semver && semver.valid(version) === null) {
      throw new UnprocessableError(`version ${JSON.stringify(version)} is not a valid semantic version (versioning.enforce_semver)`, {
        details: { rule: 'enforce_semver' },
      })
    }
    if (!policy.allow_prerelease && prerelease) {
      throw new UnprocessableError(`pre-release version ${JSON.stringify(version)} is not allowed (versioning.allow_prerelease = false)`, {
        details: { rule: 'allow_prerelease' },
      })
    }
    if (pattern && !pattern.test(version)) {
      throw new UnprocessableError(`version ${JSON.stringify(version)} does not match versioning.version_pattern ${policy.version_pattern}`, {
        details: { rule: 'version_pattern' },
      })
    }
  }
}
