/**
 * ULID-style identifiers for audit entries: 26 Crockford base-32 characters, 48 bits of
 * milliseconds then 80 random bits, so that string order is time order (the audit log pages by id).
 * Ids made within one millisecond increment the random part, so they stay strictly increasing in
 * one process even when the clock does not move (the test clock) or steps back.
 */
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_LEN = 10
const RANDOM_LEN = 16

/** A ULID is 26 characters of the Crockford alphabet. */
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/

function encodeTime(ms: number): string {
  let out = ''
  let t = Math.max(0, Math.floor(ms))
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET[t % 32]! + out
    t = Math.floor(t / 32)
  }
  return out
}

/** Makes monotonic ULIDs from a clock. */
export class UlidFactory {
  private lastTime = -1
  /** The random part as 16 base-32 digits (5 bits each). */
  private readonly random = new Uint8Array(RANDOM_LEN)

  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    let time = this.now()
    if (time <= this.lastTime) {
      // Same millisecond (or the clock went back): keep the last time and count up.
      time = this.lastTime
      this.increment()
    } else {
      this.lastTime = time
      const bytes = randomBytes(RANDOM_LEN)
      for (let i = 0; i < RANDOM_LEN; i++) this.random[i] = bytes[i]! & 31
      // Leave headroom so that a burst within one millisecond never overflows.
      this.random[0] = this.random[0]! & 15
    }
    let out = encodeTime(time)
    for (let i = 0; i < RANDOM_LEN; i++) out += ALPHABET[this.random[i]!]
    return out
  }

  private increment(): void {
    for (let i = RANDOM_LEN - 1; i >= 0; i--) {
      if (this.random[i]! < 31) {
        this.random[i] = this.random[i]! + 1
        return
      }
      this.random[i] = 0
    }
    // 2^79 ids in one millisecond: move the time on instead of wrapping.
    this.lastTime++
  }
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(id: string): number {
  let t = 0
  for (let i = 0; i < TIME_LEN; i++) t = t * 32 + ALPHABET.indexOf(id[i]!)
  return t
}
