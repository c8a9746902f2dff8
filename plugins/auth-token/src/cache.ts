/**
 * A small LRU map whose entries also expire: bounded memory whatever the clients send.
 */
export class TtlLru<V> {
  readonly #max: number
  readonly #entries = new Map<string, { value: V; expires: number }>()

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    this.#max = maxEntries
  }

  get size(): number {
    return this.#entries.size
  }

  /** The live value for `key` at time `now` (ms), refreshed as most recently used. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    if (entry.expires <= now) return undefined
    // Map iteration follows insertion order: re-inserting makes this the newest entry.
    this.#entries.set(key, entry)
    return entry.value
  }

  /** Stores `value` until `expires` (ms), evicting the least recently used entry when full. */
  set(key: string, value: V, expires: number): void {
    this.#entries.delete(key)
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { value, expires })
  }

  clear(): void {
    this.#entries.clear()
  }
}
