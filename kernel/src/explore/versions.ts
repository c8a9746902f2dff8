/**
 * Protocol-agnostic version ordering and pre-release detection for the explorer. Registries use
 * semver (npm, cargo), PEP 440 (pypi), Maven versions, Go's `v` prefix…; the explorer only needs
 * an order that puts newer releases first and marks obvious pre-releases.
 */

/** Seed: "Pre-release versions (containing -)"; also PEP 440 `a1`/`b2`/`rc1`/`.dev3` suffixes. */
export function isPrerelease(version: string): boolean {
  const core = version.split('+', 1)[0]!
  if (core.includes('-')) return true
  return /\d(?:a|b|rc|alpha|beta|pre|preview)\.?\d*$/i.test(core) || /\.dev\d*$/i.test(core)
}

type Part = number | string

function parts(v: string): Part[] {
  return v
    .replace(/^v(?=\d)/i, '')
    .split('+', 1)[0]!
    .split(/[.\-_]|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/i)
    .filter((p) => p.length > 0)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.toLowerCase()))
}

/**
 * Orders versions ascending: numeric parts numerically, a release after its pre-releases
 * (`1.0.0-rc.1` < `1.0.0`), remaining ties by plain string order so the sort is total.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a)
  const pb = parts(b)
  const n = Math.max(pa.length, pb.length)
  for (let i = 0; i < n; i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === y) continue
    // A version that ends here is a release; one that continues with words is its pre-release
    // (1.0.0 > 1.0.0-beta), one that continues with numbers is newer (1.0.1 > 1.0).
    if (x === undefined) return typeof y === 'string' ? 1 : -1
    if (y === undefined) return typeof x === 'string' ? -1 : 1
    if (typeof x === 'number' && typeof y === 'number') return x - y
    if (typeof x === 'number') return 1
    if (typeof y === 'number') return -1
    return x < y ? -1 : 1
  }
  return a < b ? -1 : a > b ? 1 : 0
}
