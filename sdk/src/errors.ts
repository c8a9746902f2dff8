/**
 * Error classes shared by the kernel and plugins.
 *
 * @remarks
 * The kernel maps an error to an HTTP status by its string `code`, never with `instanceof`: a plugin
 * may carry its own copy of the SDK, and `instanceof` fails across copies (koa#1466). Messages of 4xx
 * errors are sent to the client; messages of 5xx errors only reach the log.
 *
 * @packageDocumentation
 */

/**
 * Status codes for every error code the kernel knows. Plugin codes (`BH_<ID>_<WHAT>`) carry their
 * own `status` field instead.
 *
 * @public
 * @since 1.0.0
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  BH_INPUT: 400,
  BH_INTEGRITY: 400,
  BH_UNAUTHENTICATED: 401,
  BH_FORBIDDEN: 403,
  BH_NOT_FOUND: 404,
  BH_METHOD_NOT_ALLOWED: 405,
  BH_CONFLICT: 409,
  BH_GONE: 410,
  BH_TOO_LARGE: 413,
  BH_UNPROCESSABLE: 422,
  BH_RATE_LIMITED: 429,
  BH_INTERNAL: 500,
  BH_NOT_IMPLEMENTED: 501,
  BH_UPSTREAM: 502,
  BH_UNAVAILABLE: 503,
  BH_UPSTREAM_TIMEOUT: 504,
})

/** Options accepted by every {@link BatleHubError} constructor. @public @since 1.0.0 */
export interface ErrorOptions {
  /** The error that caused this one; kept for the log, never sent to clients. */
  cause?: unknown
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`, …). */
  headers?: Record<string, string>
  /** Plain JSON details a protocol error formatter may include in its body. */
  details?: Record<string, unknown>
}

/**
 * Base class of all BatleHub errors.
 *
 * @public
 * @since 1.0.0
 */
export class BatleHubError extends Error {
  /** Stable machine-readable code, e.g. `BH_NOT_FOUND`. */
  readonly code: string
  /** HTTP status the kernel answers with. */
  readonly status: number
  /** Whether the message may be shown to the client (true for 4xx). */
  readonly expose: boolean
  /** Extra response headers. */
  readonly headers: Record<string, string>
  /** Plain JSON details for protocol formatters. */
  readonly details: Record<string, unknown>

  constructor(code: string, message: string, status?: number, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = status ?? ERROR_STATUS[code] ?? 500
    // STYLE §8: 4xx and 501 messages reach the client; other 5xx messages only reach the log.
    this.expose = this.status < 500 || code === 'BH_NOT_IMPLEMENTED'
    this.headers = options.headers ?? {}
    this.details = options.details ?? {}
  }
}

/** 400: the request is malformed. @public @since 1.0.0 */
export class InputError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_INPUT', message, 400, options) }
}
/** 400: content does not match its declared digest. @public @since 1.0.0 */
export class IntegrityError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_INTEGRITY', message, 400, options) }
}
/** 401: credentials are missing or wrong. @public @since 1.0.0 */
export class AuthenticationError extends BatleHubError {
  constructor(message = 'authentication required', options?: ErrorOptions) {
    super('BH_UNAUTHENTICATED', message, 401, options)
  }
}
/** 403: the caller is known but may not do this. @public @since 1.0.0 */
export class NotAllowedError extends BatleHubError {
  constructor(message = 'forbidden', options?: ErrorOptions) { super('BH_FORBIDDEN', message, 403, options) }
}
/** 404. @public @since 1.0.0 */
export class NotFoundError extends BatleHubError {
  constructor(message = 'not found', options?: ErrorOptions) { super('BH_NOT_FOUND', message, 404, options) }
}
/** 405. @public @since 1.0.0 */
export class MethodNotAllowedError extends BatleHubError {
  constructor(message = 'method not allowed', options?: ErrorOptions) {
    super('BH_METHOD_NOT_ALLOWED', message, 405, options)
  }
}
/** 409: the resource exists already (a repeated version). @public @since 1.0.0 */
export class ConflictError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_CONFLICT', message, 409, options) }
}
/** 410: the resource existed and is gone for good (Go's proxy protocol needs it). @public @since 1.0.0 */
export class GoneError extends BatleHubError {
  constructor(message = 'gone', options?: ErrorOptions) { super('BH_GONE', message, 410, options) }
}
/** 413: the body is larger than allowed. @public @since 1.0.0 */
export class PayloadTooLargeError extends BatleHubError {
  constructor(message = 'payload too large', options?: ErrorOptions) { super('BH_TOO_LARGE', message, 413, options) }
}
/** 422: well-formed but refused by a rule (versioning policy). @public @since 1.0.0 */
export class UnprocessableError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_UNPROCESSABLE', message, 422, options) }
}
/** 429: over a rate limit. @public @since 1.0.0 */
export class TooManyRequestsError extends BatleHubError {
  constructor(message = 'too many requests', options?: ErrorOptions) { super('BH_RATE_LIMITED', message, 429, options) }
}
/** 501: the registry type or mode does not support this. @public @since 1.0.0 */
export class NotImplementedError extends BatleHubError {
  constructor(message = 'not implemented', options?: ErrorOptions) {
    super('BH_NOT_IMPLEMENTED', message, 501, options)
  }
}
/** 502: every upstream failed. The message is logged, not sent. @public @since 1.0.0 */
export class UpstreamError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_UPSTREAM', message, 502, options) }
}
/** 504: the upstream timed out. @public @since 1.0.0 */
export class UpstreamTimeoutError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_UPSTREAM_TIMEOUT', message, 504, options) }
}
/** 503: a dependency of the hub (database, storage) is unavailable. @public @since 1.0.0 */
export class UnavailableError extends BatleHubError {
  constructor(message: string, options?: ErrorOptions) { super('BH_UNAVAILABLE', message, 503, options) }
}

/**
 * The client-facing description of an error, as handed to a plugin's `formatError`.
 *
 * @public
 * @since 1.0.0
 */
export interface ErrorInfo {
  status: number
  code: string
  /** The message, or a generic text for 5xx errors. */
  message: string
  details: Record<string, unknown>
}

/**
 * Turns anything thrown into the information a client may see, by `code` (never `instanceof`).
 *
 * @public
 * @since 1.0.0
 */
export function toErrorInfo(err: unknown): ErrorInfo {
  const e = (err ?? {}) as { code?: unknown; status?: unknown; message?: unknown; details?: unknown; expose?: unknown }
  const code = typeof e.code === 'string' && e.code.startsWith('BH_') ? e.code : 'BH_INTERNAL'
  let status = typeof e.status === 'number' && e.status >= 400 && e.status <= 599 ? e.status : ERROR_STATUS[code] ?? 500
  if (code === 'BH_INTERNAL') status = 500
  const expose = status < 500 || code === 'BH_NOT_IMPLEMENTED'
  return {
    status,
    code,
    message: expose && typeof e.message === 'string' ? e.message : genericMessage(status),
    details: expose && e.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : {},
  }
}

function genericMessage(status: number): string {
  switch (status) {
    case 502: return 'upstream registry error'
    case 503: return 'service unavailable'
    case 504: return 'upstream registry timed out'
    case 501: return 'not implemented'
    default: return 'internal server error'
  }
}
