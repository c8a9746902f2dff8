/**
 * What the `token` provider does once configured: match credentials against the static tokens.
 */
import {
  isArgon2idHash,
  safeEqual,
  verifySecret,
  type AuthContext,
  type AuthHooks,
  type Credential,
  type Identity,
} from '@batlehub/sdk'
import type { TokenAuthConfig, TokenEntry } from './config.ts'
import { TtlLru } from './cache.ts'

/** How long a token that verified against a hash is trusted without re-running Argon2. */
export const VERIFIED_TTL_MS = 5 * 60_000
/** How long a token that matched nothing is refused without re-running Argon2. */
export const REFUSED_TTL_MS = 30_000
/** Entries kept in each cache. */
export const CACHE_ENTRIES = 1000

// The bounds verifySecret enforces; a hash outside them could never match, so refuse it at start-up
// instead of leaving a token that silently never works.
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/
const MAX_MEMORY_KIB = 1 << 21

interface Entry {
  readonly index: number
  readonly value: string
  readonly identity: Identity
}

function identityOf(entry: TokenEntry, index: number): Identity {
  const userId = entry.user_id ?? `token-${index}`
  const identity: Identity = {
    subject: `token:${userId}`,
    userId,
    role: entry.role,
    groups: Object.freeze([...entry.groups]),
    provider: 'token',
    ...(entry.name === undefined ? {} : { displayName: entry.name }),
  }
  return Object.freeze(identity)
}

/** Why a `$argon2…` value cannot be used, or null when it is a usable Argon2id PHC string. */
function phcProblem(value: string): string | null {
  if (!isArgon2idHash(value)) {
    return /^\$argon2(i|d)\$/.test(value)
      ? 'is an Argon2i/Argon2d hash, and only Argon2id is supported'
      : 'is not a valid Argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>)'
  }
  const m = PHC.exec(value)!
  const [memory, passes, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (memory < 8 || memory > MAX_MEMORY_KIB) return `its memory cost m=${memory} is outside 8..${MAX_MEMORY_KIB} KiB`
  if (passes < 1 || passes > 16) return `its time cost t=${passes} is outside 1..16`
  if (parallelism < 1 || parallelism > 16) return `its parallelism p=${parallelism} is outside 1..16`
  const hashBytes = Buffer.from(m[5]!, 'base64').length
  if (hashBytes < 16 || hashBytes > 64) return `its hash length ${hashBytes} bytes is outside 16..64`
  return null
}

/** Seams for tests; production uses the defaults. */
export interface TokenAuthOptions {
  /** Checks a token against a PHC hash. Default: the SDK's `verifySecret` (Argon2id). */
  readonly verify?: (secret: string, phc: string) => Promise<boolean>
}

/**
 * Builds the provider's hooks from its validated config.
 *
 * @throws Error naming `tokens[i].value` for a malformed `$argon2…` value or a duplicate token.
 */
export function setupTokenAuth(ctx: AuthContext<TokenAuthConfig>, options: TokenAuthOptions = {}): AuthHooks {
  const verify = options.verify ?? verifySecret
  const plain: Entry[] = []
  const hashed: Entry[] = []
  const seen = new Map<string, number>()
  ctx.config.tokens.forEach((entry, index) => {
    const key = `tokens[${index}].value`
    const previous = seen.get(entry.value)
    if (previous !== undefined) throw new Error(`auth token: ${key} duplicates tokens[${previous}].value; each token must be unique`)
    seen.set(entry.value, index)
    if (entry.value.startsWith('$argon2')) {
      const problem = phcProblem(entry.value)
      if (problem) throw new Error(`auth token: ${key} starts with "$argon2" but ${problem}; create one with \`batlehub hash-token\``)
      hashed.push({ index, value: entry.value, identity: identityOf(entry, index) })
    } else {
      plain.push({ index, value: entry.value, identity: identityOf(entry, index) })
    }
  })
  const hasAdmin = ctx.config.tokens.some((t) => t.role === 'admin')
  if (plain.length > 0) {
    ctx.log.debug('plain static tokens configured; prefer Argon2id hashes (batlehub hash-token)', {
      plain: plain.map((e) => `tokens[${e.index}]`),
    })
  }

  // Keyed by sha256 of the whole token: a cache entry can only ever answer for that exact token.
  const verified = new TtlLru<Identity>(CACHE_ENTRIES)
  const refused = new TtlLru<true>(CACHE_ENTRIES)
  // Concurrent requests with the same token (npm fetches in parallel) share one Argon2 run.
  const pending = new Map<string, Promise<Identity | null>>()

  function matchPlain(token: string): Identity | null {
    // Compare against every plain token, with no early exit, so the time taken does not say which
    // one matched (or how far the loop got).
    let found: Identity | null = null
    for (const entry of plain) {
      if (safeEqual(token, entry.value) && found === null) found = entry.identity
    }
    return found
  }

  async function matchHashed(token: string): Promise<Identity | null> {
    for (const entry of hashed) {
      if (await verify(token, entry.value)) return entry.identity
    }
    return null
  }

  return {
    async authenticate(credential: Credential): Promise<Identity | null> {
      // For Basic the password is the token (pip/twine send `__token__` as the user, maven a user id).
      const token = credential.token || (credential.scheme === 'basic' ? credential.password ?? '' : '')
      if (token === '') return null

      const byPlain = matchPlain(token)
      if (byPlain || hashed.length === 0) return byPlain

      const key = await digest(token)
      const now = ctx.clock.now()
      const hit = verified.get(key, now)
      if (hit) return hit
      if (refused.get(key, now)) return null
      const inFlight = pending.get(key)
      if (inFlight) return inFlight

      const work = matchHashed(token).then((identity) => {
        const at = ctx.clock.now()
        if (identity) verified.set(key, identity, at + VERIFIED_TTL_MS)
        else refused.set(key, true, at + REFUSED_TTL_MS)
        return identity
      })
      pending.set(key, work)
      try {
        return await work
      } finally {
        pending.delete(key)
      }
    },
    hasAdminCredential: () => hasAdmin,
    dispose() {
      verified.clear()
      refused.clear()
    },
  }
}

/** sha256 of the whole token, base64: the cache key (Web Crypto, so the plugin imports only the SDK). */
async function digest(token: string): Promise<string> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return Buffer.from(bytes).toString('base64')
}
