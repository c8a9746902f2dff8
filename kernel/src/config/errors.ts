/**
 * ConfigError, and the translation of TypeBox validation errors into `key.path: problem` lines.
 */
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'
import { Settings } from 'typebox/system'

/**
 * The configuration cannot be used. `errors` lists every problem found, one line each, in the
 * form `<key path>: <problem>` (`registries[2].cache.idle_days: must be integer`).
 */
export class ConfigError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'BH_CONFIG'
  readonly errors: readonly string[]
  /** The file the problems were found in, or `<defaults>`, when known. */
  readonly source?: string

  constructor(errors: readonly string[], source?: string) {
    const where = source ? ` (${source})` : ''
    const head = errors.length === 1 ? `invalid configuration${where}:` : `invalid configuration${where}, ${errors.length} problems:`
    super([head, ...errors.map((e) => `  ${e}`)].join('\n'))
    this.name = 'ConfigError'
    this.errors = Object.freeze([...errors])
    if (source !== undefined) this.source = source
  }
}

// ---------------------------------------------------------------------------------------------
// Key paths
// ---------------------------------------------------------------------------------------------

/** A path into the config: object keys and array indexes. */
export type KeyPath = readonly (string | number)[]

const BARE_KEY = /^[A-Za-z0-9_-]+$/

/** `['registries', 2, 'cache', 'idle_days']` → `registries[2].cache.idle_days`; odd keys are quoted. */
export function formatPath(path: KeyPath): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (BARE_KEY.test(seg)) out += out === '' ? seg : `.${seg}`
    else out += `[${JSON.stringify(seg)}]`
  }
  return out === '' ? '(root)' : out
}

/** `<path>: <message>`. */
export const problem = (path: KeyPath, message: string): string => `${formatPath(path)}: ${message}`

/**
 * Turns a JSON pointer (`/registries/2/cache`) into path segments, using the value to tell array
 * indexes from object keys that look like numbers.
 */
export function pointerToPath(pointer: string, value: unknown): (string | number)[] {
  if (pointer === '') return []
  const out: (string | number)[] = []
  let cur: unknown = value
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(cur) && /^\d+$/.test(key)) {
      out.push(Number(key))
      cur = cur[Number(key)]
    } else {
      out.push(key)
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined
    }
  }
  return out
}

function schemaAt(root: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let cur: unknown = root
  const trimmed = schemaPath.replace(/^#/, '')
  if (trimmed === '') return root as Record<string, unknown>
  for (const raw of trimmed.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>) : undefined
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[seg]
  }
  return cur
}

// ---------------------------------------------------------------------------------------------
// TypeBox errors → problems
// ---------------------------------------------------------------------------------------------

interface TbError {
  keyword: string
  schemaPath: string
  instancePath: string
  params: Record<string, unknown>
  message: string
}

const validators = new WeakMap<object, ReturnType<typeof Compile>>()
function compiled(schema: TSchema): ReturnType<typeof Compile> {
  let v = validators.get(schema)
  if (!v) {
    v = Compile(schema)
    validators.set(schema, v)
  }
  return v
}

/**
 * Runs `fn` with TypeBox's error cap lifted. TypeBox buffers at most 8 errors by default (a guard
 * against hostile input); a config file is the operator's own and every problem should be listed.
 */
export function withAllErrors<T>(fn: () => T): T {
  const before = Settings.Get().maxErrors
  Settings.Set({ maxErrors: 10_000 })
  try {
    return fn()
  } finally {
    Settings.Set({ maxErrors: before })
  }
}

const quoteList = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ')

function keywordMessage(e: TbError): string {
  const p = e.params
  switch (e.keyword) {
    case 'type': {
      const t = p['type']
      return `must be ${Array.isArray(t) ? t.join(' or ') : String(t)}`
    }
    case 'enum': return `must be one of ${quoteList(p['allowedValues'] as unknown[])}`
    case 'const': return `must be ${JSON.stringify(p['allowedValue'])}`
    case 'minimum': return `must be >= ${String(p['limit'])}`
    case 'maximum': return `must be <= ${String(p['limit'])}`
    case 'exclusiveMinimum': return `must be > ${String(p['limit'])}`
    case 'exclusiveMaximum': return `must be < ${String(p['limit'])}`
    case 'minLength': return p['limit'] === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters`
    case 'maxLength': return `must be at most ${String(p['limit'])} characters`
    case 'minItems': return `must have at least ${String(p['limit'])} items`
    case 'maxItems': return `must have at most ${String(p['limit'])} items`
    case 'uniqueItems': return 'must not contain duplicates'
    case 'pattern': return `must match ${String(p['pattern'])}`
    case 'format': return `must be a valid ${String(p['format'])}`
    default: return e.message
  }
}

/**
 * Every problem of `value` against `schema`, as `<prefix + path>: <message>` lines in TypeBox's
 * (deterministic) order. `value` should already have its defaults applied.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix: KeyPath = []): string[] {
  const errors = compiled(schema).Errors(value) as unknown as TbError[]
  if (errors.length === 0) return []
  // A failed union reports each branch's errors and then an `anyOf` error; replace the lot with
  // one explanation (by the discriminator when the union has one).
  const unions = errors.filter((e) => e.keyword === 'anyOf')
  const inUnion = (e: TbError): boolean =>
    unions.some((u) => e !== u && e.schemaPath.startsWith(`${u.schemaPath}/anyOf/`) &&
      (e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`)))
  const out: string[] = []
  for (const e of errors) {
    if (e.keyword === 'additionalProperties' || inUnion(e)) continue
    const path = [...prefix, ...pointerToPath(e.instancePath, value)]
    const node = schemaAt(schema, e.schemaPath)
    if (e.keyword === 'anyOf') {
      out.push(...unionProblems(node, valueAt(value, path.slice(prefix.length)), path))
      continue
    }
    if (e.keyword === 'boolean') {
      // `additionalProperties: false` reports each extra key as a `false` schema at that key.
      out.push(problem(path, e.schemaPath.endsWith('/additionalProperties') ? 'unknown key' : 'not allowed'))
      continue
    }
    if (e.keyword === 'required') {
      for (const key of (e.params['requiredProperties'] as string[] | undefined) ?? []) out.push(problem([...path, key], 'required'))
      continue
    }
    const custom = (node?.['errorMessage'] as Record<string, string> | undefined)?.[e.keyword]
    out.push(problem(path, custom ?? keywordMessage(e)))
  }
  return out
}

function unionProblems(union: Record<string, unknown> | undefined, value: unknown, path: KeyPath): string[] {
  const variants = (union?.['anyOf'] as Record<string, unknown>[] | undefined) ?? []
  const tag = (union?.['discriminator'] as { propertyName?: string } | undefined)?.propertyName
  const tagOf = (v: Record<string, unknown>): Record<string, unknown> | undefined =>
    tag ? ((v['properties'] as Record<string, Record<string, unknown>> | undefined)?.[tag]) : undefined
  if (tag) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [problem(path, 'must be object')]
    const given = (value as Record<string, unknown>)[tag]
    const allowed = variants.map((v) => tagOf(v)?.['const'])
    const chosen = given === undefined
      ? variants.find((v) => tagOf(v)?.['default'] !== undefined)
      : variants.find((v) => tagOf(v)?.['const'] === given)
    if (!chosen) {
      return [problem([...path, tag], given === undefined ? 'required' : `must be one of ${quoteList(allowed)}`)]
    }
    const defaulted = Value.Default(chosen as TSchema, Value.Clone(value))
    return schemaProblems(chosen as TSchema, defaulted, path)
  }
  const consts = variants.map((v) => v['const'])
  if (variants.length > 0 && consts.every((c) => c !== undefined)) return [problem(path, `must be one of ${quoteList(consts)}`)]
  return [problem(path, 'does not match any allowed form')]
}
