/**
 * An LRU map bounded by the bytes of its values (a Map keeps insertion order; a hit moves the
 * entry to the end). An entry larger than the whole budget is not kept at all.
 */
export class ByteLru<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>()
  private used = 0

  constructor(private readonly maxBytes: number, private readonly sizeOf: (value: V) => number) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /** Reads without touching the recency order. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value
  }

  set(key: K, value: V): void {
    this.delete(key)
    const bytes = this.sizeOf(value)
    if (bytes > this.maxBytes) return
    this.entries.set(key, { value, bytes })
    this.used += bytes
    while (this.used > this.maxBytes) {
      const oldest = this.entries.keys().next().value as K
      this.delete(oldest)
    }
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key)
    if (!entry) return false
    this.entries.delete(key)
    this.used -= entry.bytes
    return true
  }

  /** Removes every entry whose key satisfies the predicate. */
  deleteWhere(predicate: (key: K, value: V) => boolean): number {
    let n = 0
    for (const [key, entry] of [...this.entries]) {
      if (predicate(key, entry.value)) {
        this.delete(key)
        n++
      }
    }
    return n
  }

  clear(): void {
    this.entries.clear()
    this.used = 0
  }

  get size(): number {
    return this.entries.size
  }

  get bytes(): number {
    return this.used
  }
}
