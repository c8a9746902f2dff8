/**
 * `@batlehub/sdk/testing`: boot a real kernel in-process and serve fixture upstreams.
 *
 * @remarks
 * The implementation lives in `@batlehub/kernel/testing` (the real kernel: real database, real
 * storage, real HTTP on 127.0.0.1). This module only forwards to it, so that plugins keep importing
 * nothing but the SDK. Install `@batlehub/kernel` as a dev dependency of your plugin.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthPluginDefinition, RegistryPluginDefinition } from './plugin.ts'

/** Options of {@link createTestKernel}. @public @since 1.0.0 */
export interface TestKernelOptions {
  /**
   * Plugin definitions (or plugin folders) to load in addition to the installed ones; a definition
   * replaces an installed plugin of the same id.
   */
  plugins?: ReadonlyArray<RegistryPluginDefinition<any> | AuthPluginDefinition<any> | string>
  /**
   * Configuration, shaped like config.toml once parsed (snake_case keys). Merged over the test defaults:
   * a temporary data directory, server on 127.0.0.1 port 0, and two static tokens
   * (`TestKernel.adminToken`, role admin; `TestKernel.userToken`, role user).
   */
  config?: Record<string, unknown>
  /** Database dialect. `postgresql` needs `BATLEHUB_TEST_PG_URL` and uses a fresh schema. Default `sqlite`. */
  database?: 'sqlite' | 'postgresql'
  /** Discover installed plugins (node_modules, ./plugins). Default true. */
  discover?: boolean
}

/** A response read whole by {@link TestKernel.request}. @public @since 1.0.0 */
export interface TestResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  text(): string
  json<T = any>(): T
}

/** Options of one {@link TestKernel.request}. @public @since 1.0.0 */
export interface TestRequestOptions {
  headers?: Record<string, string>
  body?: string | Buffer | Record<string, unknown> | unknown[]
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
}

/** A controllable clock. @public @since 1.0.0 */
export interface TestClock {
  now(): number
  /** Moves time forward. */
  advance(ms: number): void
  set(epochMs: number): void
}

/**
 * A running kernel for tests.
 *
 * @public
 * @since 1.0.0
 */
export interface TestKernel {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly adminToken: string
  readonly userToken: string
  readonly clock: TestClock
  /** The temporary data directory (storage, SQLite file). */
  readonly dataDir: string
  request(method: string, path: string, options?: TestRequestOptions): Promise<TestResponse>
  /** Stops the server, disposes plugins, closes the database and removes the data directory. */
  close(): Promise<void>
}

/** A recorded request to a {@link FakeUpstream}. @public @since 1.0.0 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** A fixture response. @public @since 1.0.0 */
export interface FixtureResponse {
  status?: number
  headers?: Record<string, string>
  body?: string | Buffer
}

/** A fixture route: a fixed response, or a handler. @public @since 1.0.0 */
export type FixtureRoute = FixtureResponse | ((req: IncomingMessage, res: ServerResponse) => void | Promise<void>)

/**
 * A fixture upstream registry on 127.0.0.1 (port 0).
 *
 * @public
 * @since 1.0.0
 */
export interface FakeUpstream {
  readonly url: string
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[]
  /** The paths (with query) of {@link FakeUpstream.requests}. */
  readonly paths: readonly string[]
  /** Adds or replaces a route: `'GET /lodash'`. */
  route(key: string, route: FixtureRoute): void
  /** Forgets recorded requests. */
  reset(): void
  /** Closes the server and every open connection. */
  close(): Promise<void>
}

type KernelTesting = {
  createTestKernel(options?: TestKernelOptions): Promise<TestKernel>
  fakeUpstream(routes?: Record<string, FixtureRoute> | string): Promise<FakeUpstream>
}

async function impl(): Promise<KernelTesting> {
  const specifier = '@batlehub/kernel/testing'
  try {
    return (await import(specifier)) as KernelTesting
  } catch (err) {
    throw new Error('@batlehub/sdk/testing needs @batlehub/kernel installed (as a dev dependency)', { cause: err })
  }
}

/**
 * Boots the real kernel with the given plugins and configuration.
 *
 * @public
 * @since 1.0.0
 */
export async function createTestKernel(options: TestKernelOptions = {}): Promise<TestKernel> {
  return (await impl()).createTestKernel(options)
}

/**
 * Starts a fixture upstream: a map of `'METHOD /path'` to responses, or a folder whose files are
 * served at their relative paths.
 *
 * @public
 * @since 1.0.0
 */
export async function fakeUpstream(routes?: Record<string, FixtureRoute> | string): Promise<FakeUpstream> {
  return (await impl()).fakeUpstream(routes)
}
