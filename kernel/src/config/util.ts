/** Small helpers for plain TOML-shaped data. */

/** A TOML table: a non-null, non-array object that is not a Date (smol-toml dates are objects). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a `__proto__` key must stay a key, never become the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * Deep copy of TOML-shaped data into plain objects and arrays. smol-toml returns null-prototype
 * tables (TOOLCHAIN pitfall 16), which deep-equality helpers and some libraries mishandle.
 * Leaves (strings, numbers, booleans, dates) are kept as they are.
 */
export function toPlain<T = unknown>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => toPlain(v)) as T
  if (isTable(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) setKey(out, key, toPlain(value[key]))
    return out as T
  }
  return value
}

/** Freezes objects and arrays all the way down; returns the same value. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/** Deep merge of tables: keys of `over` win; arrays and other values replace. Returns a new value. */
export function mergeTables(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = toPlain(base)
  for (const key of Object.keys(over)) {
    const b = out[key]
    const o = over[key]
    setKey(out, key, isTable(b) && isTable(o) ? mergeTables(b, o) : toPlain(o))
  }
  return out
}
