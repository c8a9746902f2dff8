/**
 * Checksum files of the Maven layout: `x.jar.sha1` holds the hex digest of `x.jar`, sometimes
 * followed by the file name (`sha1sum` style) — Central has both forms.
 */
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { CHECKSUM_ALGORITHMS, CHECKSUM_HEX_LENGTH, type ChecksumAlgorithm } from './coordinates.ts'

/** Largest checksum file read (a sha512 line plus a file name). */
export const MAX_CHECKSUM_BYTES = 1024

/** The hex digest in a checksum file's content, lower-cased; null when it holds none of the right length. */
export function parseChecksumFile(content: string | Buffer, algorithm: ChecksumAlgorithm): string | null {
  const textValue = (typeof content === 'string' ? content : content.toString('latin1')).trim()
  const first = textValue.split(/\s+/)[0] ?? ''
  const len = CHECKSUM_HEX_LENGTH[algorithm]
  if (first.length === len && /^[0-9a-fA-F]+$/.test(first)) return first.toLowerCase()
  // Some old repositories wrote "MD5 (file) = <hex>".
  const m = new RegExp(`(?:^|[^0-9a-fA-F])([0-9a-fA-F]{${len}})\\s*$`).exec(textValue)
  return m && textValue.length < MAX_CHECKSUM_BYTES ? m[1]!.toLowerCase() : null
}

/** Hex digest of a buffer. */
export function digestHex(algorithm: ChecksumAlgorithm, data: Buffer | string): string {
  return createHash(algorithm).update(data).digest('hex')
}

/** Every Maven checksum of a buffer. */
export function allDigests(data: Buffer | string): Record<ChecksumAlgorithm, string> {
  return Object.fromEntries(CHECKSUM_ALGORITHMS.map((a) => [a, digestHex(a, data)])) as Record<ChecksumAlgorithm, string>
}

/** Every Maven checksum of a stream, read once. */
export async function digestStream(stream: Readable): Promise<Record<ChecksumAlgorithm, string>> {
  const hashes = CHECKSUM_ALGORITHMS.map((a) => [a, createHash(a)] as const)
  for await (const chunk of stream) for (const [, h] of hashes) h.update(chunk as Buffer)
  return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')])) as Record<ChecksumAlgorithm, string>
}

/** Normalises a digest the kernel reports (hex, or base64 from an SRI value) to lower-case hex. */
export function toHex(value: string | undefined, algorithm: ChecksumAlgorithm): string | undefined {
  if (!value) return undefined
  const v = value.includes('-') && /^[a-z0-9]+-/.test(value) ? value.slice(value.indexOf('-') + 1) : value
  if (v.length === CHECKSUM_HEX_LENGTH[algorithm] && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase()
  try {
    const hex = Buffer.from(v, 'base64').toString('hex')
    return hex.length === CHECKSUM_HEX_LENGTH[algorithm] ? hex : undefined
  } catch {
    return undefined
  }
}
