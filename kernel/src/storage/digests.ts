/**
 * Digests computed while a body streams through, and expected digests in the forms registries
 * publish them: hex (`sha1` of npm's `shasum`, PyPI's `sha256`), Subresource Integrity
 * (`sha512-<base64>`, npm's `integrity`, possibly several space-separated) or bare base64.
 */
import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { InputError, PayloadTooLargeError, type DigestAlgorithm } from '@batlehub/sdk'

/** Every algorithm storage can compute, in a stable order. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = Object.freeze(['md5', 'sha1', 'sha256', 'sha512'])

const LENGTH: Record<DigestAlgorithm, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 }

function isAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(LENGTH, name)
}

/**
 * Decodes an expected digest for `algorithm`: hex, `alg-<base64>` (SRI; with several
 * space-separated tokens the first one for `algorithm` counts) or base64 (standard or URL-safe).
 * Throws `InputError` when it is none of those or has the wrong length.
 */
export function parseExpectedDigest(algorithm: DigestAlgorithm, value: string): Buffer {
  if (typeof value !== 'string' || value.trim() === '') throw new InputError(`expected ${algorithm} digest is empty`)
  let text: string | undefined
  for (const token of value.trim().split(/\s+/)) {
    const sri = /^([a-z0-9]+)-(.+)$/i.exec(token)
    if (sri && isAlgorithm(sri[1]!.toLowerCase())) {
      if (sri[1]!.toLowerCase() === algorithm) {
        text = sri[2]!.replace(/\?.*$/, '') // SRI options (`?foo`) carry no digest bytes
        break
      }
      continue
    }
    text ??= token
  }
  if (text === undefined) throw new InputError(`expected ${algorithm} digest names another algorithm: ${value.slice(0, 100)}`)
  const size = LENGTH[algorithm]
  if (text.length === size * 2 && /^[0-9a-f]+$/i.test(text)) return Buffer.from(text, 'hex')
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (bytes.length === size) return bytes
  }
  throw new InputError(`expected ${algorithm} digest is neither hex nor base64 of ${size} bytes: ${value.slice(0, 100)}`)
}

/** Decodes every expected digest; unknown algorithms are an `InputError`. */
export function parseExpectations(expect: Partial<Record<string, string>> | undefined): Map<DigestAlgorithm, Buffer> {
  const out = new Map<DigestAlgorithm, Buffer>()
  for (const [name, value] of Object.entries(expect ?? {})) {
    if (value === undefined) continue
    if (!isAlgorithm(name)) throw new InputError(`unknown digest algorithm "${name}" (known: ${DIGEST_ALGORITHMS.join(', ')})`)
    out.set(name, parseExpectedDigest(name, value))
  }
  return out
}

/**
 * A pass-through stream that hashes every byte and counts them, failing with
 * `PayloadTooLargeError` on the first chunk past `maxBytes` (so the rest is never read).
 */
export class DigestStream extends Transform {
  bytes = 0
  private readonly hashes: Map<DigestAlgorithm, Hash>
  private result: Partial<Record<DigestAlgorithm, string>> | undefined

  constructor(algorithms: Iterable<DigestAlgorithm>, private readonly maxBytes?: number) {
    super()
    this.hashes = new Map([...new Set(algorithms)].map((a) => [a, createHash(a)]))
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.maxBytes !== undefined && this.bytes > this.maxBytes) {
      callback(new PayloadTooLargeError(`body is larger than ${this.maxBytes} bytes`))
      return
    }
    for (const hash of this.hashes.values()) hash.update(chunk)
    callback(null, chunk)
  }

  /** Hex digests; call after the stream ended. */
  digests(): Partial<Record<DigestAlgorithm, string>> {
    if (!this.result) {
      this.result = {}
      for (const [algorithm, hash] of this.hashes) this.result[algorithm] = hash.digest('hex')
    }
    return this.result
  }
}
