/**
 * Structured JSON logs (pino), wrapped as the SDK's LoggerService.
 */
import { pino, type Logger as Pino, type LevelWithSilent } from 'pino'
import type { LoggerService } from '@batlehub/sdk'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** Field names whose values are never logged. */
const REDACT = [
  'authorization', 'token', 'password', 'secret', 'secret_access_key', 'headers.authorization',
  'req.headers.authorization', 'req.headers["x-nuget-apikey"]', 'req.headers.cookie',
]

export function createRootLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Pino {
  return pino(
    {
      level: level as LevelWithSilent,
      base: { service: 'batlehub' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    (destination ?? pino.destination({ dest: 1, sync: false })) as any,
  )
}

/** Adapts pino to the SDK's `log(msg, fields)` order. */
export class Logger implements LoggerService {
  constructor(readonly pino: Pino) {}
  debug(msg: string, fields?: Record<string, unknown>): void { this.pino.debug(fields ?? {}, msg) }
  info(msg: string, fields?: Record<string, unknown>): void { this.pino.info(fields ?? {}, msg) }
  warn(msg: string, fields?: Record<string, unknown>): void { this.pino.warn(fields ?? {}, msg) }
  error(msg: string, fields?: Record<string, unknown>): void { this.pino.error(fields ?? {}, msg) }
  child(fields: Record<string, unknown>): Logger { return new Logger(this.pino.child(fields)) }
  flush(): Promise<void> {
    return new Promise((resolve) => this.pino.flush(() => resolve()))
  }
}
