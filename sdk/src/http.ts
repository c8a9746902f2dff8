/**
 * Requests and replies of registry routes, independent of the kernel's HTTP framework.
 *
 * @packageDocumentation
 */
import type { Readable } from 'node:stream'
import type { Identity, Permission } from './identity.ts'

/** Lower-cased request headers. @public @since 1.0.0 */
export type Headers = Readonly<Record<string, string | undefined>>

/**
 * The request body, read at most once.
 *
 * @remarks
 * Every reader enforces a byte limit (the route's `bodyLimit`, else the kernel default of
 * `server.max_body_bytes`) and throws `PayloadTooLargeError` past it, before buffering more.
 *
 * @public
 * @since 1.0.0
 */
export interface RequestBody {
  /** The raw stream. The limit is enforced while streaming. */
  stream(): Readable
  buffer(limit?: number): Promise<Buffer>
  text(limit?: number): Promise<string>
  /** Parses JSON; malformed JSON is an `InputError`. */
  json<T = unknown>(limit?: number): Promise<T>
  /**
   * Parses `multipart/form-data` (twine, NuGet). Fields are returned as strings; each file part is
   * handed to `onFile` as a stream, which must be consumed before the next part is read.
   */
  multipart(handlers: MultipartHandlers): Promise<Record<string, string[]>>
  /**
   * Writes the body to a temporary file (for formats that need random access, such as zip's central
   * directory), hashing it on the way. Call `cleanup()` when done; the kernel also removes it when
   * the request ends.
   */
  spool(limit?: number): Promise<SpooledFile>
}

/**
 * A request body (or any stream) written to a temporary file.
 *
 * @public
 * @since 1.0.0
 */
export interface SpooledFile {
  readonly path: string
  readonly size: number
  /** Hex digests of the content. */
  readonly sha256: string
  readonly sha1: string
  readonly md5: string
  readonly sha512: string
  /** Removes the file; safe to call twice. */
  cleanup(): Promise<void>
}

/** Callbacks of {@link RequestBody.multipart}. @public @since 1.0.0 */
export interface MultipartHandlers {
  onFile(part: { field: string; filename: string; contentType: string; stream: Readable }): Promise<void>
  /** Largest file part in bytes; default the route body limit. */
  maxFileBytes?: number
}

/**
 * What a registry route handler receives.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryRequest {
  readonly method: string
  /** The path below the registry mount, raw (still percent-encoded), starting with `/`. */
  readonly path: string
  /** Route parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly headers: Headers
  readonly identity: Identity
  /** Absolute URL of this registry's mount, without trailing slash: `http://hub:8080/proxy/npm`. */
  readonly baseUrl: string
  /** The client address (after the trusted-proxy rule). */
  readonly ip: string
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal
  readonly body: RequestBody
  /** Case-insensitive header lookup. */
  header(name: string): string | undefined
}

/**
 * What a registry route handler returns.
 *
 * @remarks
 * `body` may be a string, a Buffer, a Readable (streamed, never buffered), a plain object (sent as
 * JSON) or null. A handler that returns nothing answers 204.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryReply {
  status?: number
  headers?: Record<string, string | number | readonly string[]>
  body?: string | Buffer | Uint8Array | Readable | Record<string, unknown> | unknown[] | null
}

/** A route handler. @public @since 1.0.0 */
export type RouteHandler = (req: RegistryRequest) => Promise<RegistryReply | void> | RegistryReply | void

/**
 * Per-route options.
 *
 * @public
 * @since 1.0.0
 */
export interface RouteOptions {
  /**
   * Permission the caller needs on this registry. Defaults: `releases:read` for GET/HEAD,
   * `releases:write` for other methods. `null` skips the permission check (the identity is still
   * resolved and a bad credential is still refused), for endpoints such as `npm ping` or `whoami`.
   */
  permission?: Permission | null
  /** Largest accepted body in bytes, overriding the kernel default. */
  bodyLimit?: number
  /** Only in these registry modes; other modes answer 405 with the protocol's error body. */
  modes?: readonly ('proxy' | 'local' | 'hybrid')[]
  /** One-line description, shown in the OpenAPI document. */
  summary?: string
}

/**
 * Registers routes relative to the registry mount (`/proxy/{instance}/`).
 *
 * @remarks
 * Paths follow path-to-regexp 8: `/:name`, `/*rest` (splat, one or more segments), `{/:optional}`.
 * Routes registered first win. After the kernel is ready every method throws.
 *
 * @public
 * @since 1.0.0
 */
export interface RouteRegistrar {
  get(path: string, handler: RouteHandler, options?: RouteOptions): void
  head(path: string, handler: RouteHandler, options?: RouteOptions): void
  put(path: string, handler: RouteHandler, options?: RouteOptions): void
  post(path: string, handler: RouteHandler, options?: RouteOptions): void
  patch(path: string, handler: RouteHandler, options?: RouteOptions): void
  delete(path: string, handler: RouteHandler, options?: RouteOptions): void
}

/** Reply helpers. @public @since 1.0.0 */
export const reply = Object.freeze({
  /** A JSON reply. */
  json(body: unknown, status = 200, headers: Record<string, string> = {}): RegistryReply {
    const text = JSON.stringify(body)
    return { status, headers: { 'content-type': 'application/json', ...headers }, body: text }
  },
  /** A text reply. */
  text(body: string, status = 200, contentType = 'text/plain; charset=utf-8'): RegistryReply {
    return { status, headers: { 'content-type': contentType }, body }
  },
  /** An empty reply. */
  empty(status = 204, headers: Record<string, string> = {}): RegistryReply {
    return { status, headers, body: null }
  },
})
