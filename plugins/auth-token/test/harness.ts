// A hand-made AuthContext for the plugin's own hooks: config validated and defaulted the way the
// kernel does it (Value.Default, then a compiled Check), a recording logger, a settable clock.
import Value from 'typebox/value'
import { Compile } from 'typebox/compile'
import { SDK_VERSION, type AuthContext, type CoreEvents, type EventBus, type LoggerService } from '@batlehub/sdk'
import { TokenAuthConfig } from '../src/config.ts'

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly msg: string
  readonly fields?: Record<string, unknown>
}

export interface Harness {
  readonly ctx: AuthContext<TokenAuthConfig>
  readonly logs: LogRecord[]
  /** Moves the context's clock forward. */
  advance(ms: number): void
}

const check = Compile(TokenAuthConfig)

export function harness(table: unknown): Harness {
  const config = Value.Default(TokenAuthConfig, structuredClone(table))
  if (!check.Check(config)) {
    const errors = [...check.Errors(config)].map((e) => `${e.instancePath} ${e.message}`)
    throw new Error(`test config does not validate: ${errors.join('; ')}`)
  }
  const logs: LogRecord[] = []
  const logger = (fields: Record<string, unknown> = {}): LoggerService => ({
    debug: (msg, f) => void logs.push({ level: 'debug', msg, fields: { ...fields, ...f } }),
    info: (msg, f) => void logs.push({ level: 'info', msg, fields: { ...fields, ...f } }),
    warn: (msg, f) => void logs.push({ level: 'warn', msg, fields: { ...fields, ...f } }),
    error: (msg, f) => void logs.push({ level: 'error', msg, fields: { ...fields, ...f } }),
    child: (more) => logger({ ...fields, ...more }),
  })
  let now = Date.parse('2026-01-01T00:00:00Z')
  const listeners = new Map<string, Array<(payload: unknown) => unknown>>()
  const events: EventBus<CoreEvents> = {
    on(event, listener) {
      const list = listeners.get(event) ?? []
      list.push(listener as (payload: unknown) => unknown)
      listeners.set(event, list)
      return () => void list.splice(list.indexOf(listener as (payload: unknown) => unknown), 1)
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) void l(payload)
    },
  }
  const ctx: AuthContext<TokenAuthConfig> = Object.freeze({
    meta: Object.freeze({ pluginId: 'token', sdkVersion: SDK_VERSION, kernelVersion: '0.0.0-test' }),
    config: deepFreeze(config),
    log: logger({ plugin: 'token' }),
    clock: { now: () => now },
    events,
  })
  return { ctx, logs, advance: (ms) => void (now += ms) }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
