/**
 * The binary body of `cargo publish` (`PUT /api/v1/crates/new`, registry-web-api.md "Publish"):
 *
 *   u32 LE JSON length | JSON metadata | u32 LE .crate length | .crate bytes
 *
 * Read as a stream: the JSON is buffered (bounded), the `.crate` is handed on as a stream of
 * exactly the declared length.
 */
import { Readable } from 'node:stream'
import { PayloadTooLargeError } from '@batlehub/sdk'
import { CARGO_ERRORS, CargoError } from './errors.ts'

/** A publish frame whose `.crate` part has not been read yet. */
export interface PublishFrame {
  /** The parsed JSON metadata (not yet validated). */
  readonly metadata: unknown
  /** The `.crate` length the frame declares. */
  readonly crateLength: number
  /** The `.crate` bytes; fails if the body ends early or carries more than declared. */
  readonly crate: Readable
}

const badFrame = (message: string): CargoError => new CargoError(CARGO_ERRORS.BAD_FRAME, message)

/** Pulls exact byte counts out of a stream. */
class ByteReader {
  private buffered: Buffer[] = []
  private size = 0
  private done = false
  private readonly it: AsyncIterator<Buffer>

  constructor(source: Readable) {
    this.it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  }

  /** Exactly `n` bytes, or null when the stream ends first. */
  async read(n: number): Promise<Buffer | null> {
    while (this.size < n && !this.done) {
      const next = await this.it.next()
      if (next.done) this.done = true
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
        this.buffered.push(chunk)
        this.size += chunk.length
      }
    }
    if (this.size < n) return null
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered)
    const out = all.subarray(0, n)
    const rest = all.subarray(n)
    this.buffered = rest.length ? [rest] : []
    this.size = rest.length
    return out
  }

  /** The next `length` bytes as a stream; errors if the source ends early or has more. */
  take(length: number): Readable {
    const self = this
    async function* gen(): AsyncGenerator<Buffer> {
      let remaining = length
      for (const chunk of self.buffered) {
        const part = chunk.subarray(0, remaining)
        remaining -= part.length
        if (part.length) yield part
        if (chunk.length > part.length) throw badFrame('the publish body carries data after the .crate')
      }
      self.buffered = []
      self.size = 0
      while (true) {
        const next = await self.it.next()
        if (next.done) break
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
        if (chunk.length > remaining) throw badFrame('the publish body carries data after the .crate')
        remaining -= chunk.length
        if (chunk.length) yield chunk
      }
      if (remaining > 0) throw badFrame(`the publish body ended ${remaining} bytes before the end of the .crate`)
    }
    return Readable.from(gen(), { objectMode: false })
  }

  /** Stops reading the source. */
  async close(): Promise<void> {
    await this.it.return?.()
  }
}

/**
 * Reads the metadata part of a publish body and returns the `.crate` part as a stream.
 * Declared lengths are checked against the limits before any of that part is read.
 */
export async function readPublishFrame(body: Readable, limits: { maxMetadataBytes: number; maxCrateBytes: number }): Promise<PublishFrame> {
  const reader = new ByteReader(body)
  try {
    const head = await reader.read(4)
    if (!head) throw badFrame('the publish body is empty or truncated (expected the JSON length)')
    const jsonLength = head.readUInt32LE(0)
    if (jsonLength === 0) throw badFrame('the publish metadata is empty')
    if (jsonLength > limits.maxMetadataBytes) {
      throw new PayloadTooLargeError(`the publish metadata is ${jsonLength} bytes; the limit is ${limits.maxMetadataBytes} bytes`)
    }
    const json = await reader.read(jsonLength)
    if (!json) throw badFrame('the publish body ended inside the JSON metadata')
    let metadata: unknown
    try {
      metadata = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json))
    } catch (err) {
      throw badFrame(`the publish metadata is not valid JSON: ${(err as Error).message}`)
    }
    const crateHead = await reader.read(4)
    if (!crateHead) throw badFrame('the publish body ended before the .crate length')
    const crateLength = crateHead.readUInt32LE(0)
    if (crateLength === 0) throw badFrame('the .crate is empty')
    if (crateLength > limits.maxCrateBytes) {
      throw new PayloadTooLargeError(`max upload size is: ${limits.maxCrateBytes} bytes; this .crate is ${crateLength} bytes`)
    }
    return { metadata, crateLength, crate: reader.take(crateLength) }
  } catch (err) {
    await reader.close().catch(() => {})
    throw err
  }
}
