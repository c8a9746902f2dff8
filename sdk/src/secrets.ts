/**
 * Hashing and comparing secrets: Argon2id in PHC string format, and constant-time equality.
 *
 * @packageDocumentation
 */
import { argon2, randomBytes, timingSafeEqual, createHash } from 'node:crypto'

/** Argon2id parameters (OWASP 2024 minimum: m=19 MiB, t=2, p=1). @public @since 1.0.0 */
export const ARGON2ID_DEFAULTS = Object.freeze({ memory: 19456, passes: 2, parallelism: 1, tagLength: 32 })

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '')

function argon2id(message: string, nonce: Buffer, p: { memory: number; passes: number; parallelism: number; tagLength: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message, nonce, ...p }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/**
 * Hashes a secret with Argon2id and returns a PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
 *
 * @public
 * @since 1.0.0
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const p = ARGON2ID_DEFAULTS
  const hash = await argon2id(secret, salt, p)
  return `$argon2id$v=19$m=${p.memory},t=${p.passes},p=${p.parallelism}$${b64(salt)}$${b64(hash)}`
}

/** Whether a string looks like an Argon2id PHC hash. @public @since 1.0.0 */
export function isArgon2idHash(value: string): boolean {
  return /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(value)
}

/**
 * Checks a secret against an Argon2id PHC hash, in constant time over the derived key.
 * A malformed hash never matches.
 *
 * @public
 * @since 1.0.0
 */
export async function verifySecret(secret: string, phc: string): Promise<boolean> {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc)
  if (!m) return false
  const [memory, passes, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])]
  // Bounds keep a hostile config from turning one request into a memory or CPU bomb.
  if (memory < 8 || memory > 1 << 21 || passes < 1 || passes > 16 || parallelism < 1 || parallelism > 16) return false
  const salt = Buffer.from(m[4]!, 'base64')
  const expected = Buffer.from(m[5]!, 'base64')
  if (expected.length < 16 || expected.length > 64) return false
  const actual = await argon2id(secret, salt, { memory, passes, parallelism, tagLength: expected.length })
  return timingSafeEqual(actual, expected)
}

/**
 * Constant-time string equality. Both sides are hashed first so that neither their content nor
 * their length leaks through timing.
 *
 * @public
 * @since 1.0.0
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
