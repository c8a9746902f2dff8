/**
 * `@batlehub/kernel/testing`: the implementation behind `@batlehub/sdk/testing`.
 *
 * A test kernel is the real kernel — real database (SQLite file, or PostgreSQL in a fresh schema),
 * real filesystem storage in a temporary directory, real HTTP on 127.0.0.1 — with a controllable
 * clock and quiet logs (set BATLEHUB_TEST_LOG=debug to see them).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, normalize, extname, sep } from 'node:path'
import { randomBytes } from 'node:crypto'
import type {
  FakeUpstream, FixtureRoute, RecordedRequest, TestClock, TestKernel, TestKernelOptions, TestRequestOptions, TestResponse,
} from '@batlehub/sdk/testing'
import { Kernel } from '../kernel.ts'
import type { LogLevel } from '../log/logger.ts'
import { testDatabaseSettings } from './db.ts'
import type { DatabaseSettings } from '../db/orm.ts'

export { testDialects, openTestDatabase, testDatabaseSettings } from './db.ts'

export class ManualClock implements TestClock {
  private t: number
  constructor(start = Date.now()) {
    this.t = start
  }
  now(): number {
    return this.t
  }
  advance(ms: number): void {
    this.t += ms
  }
  set(epochMs: number): void {
    this.t = epochMs
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v)
}

/** Deep merge for config tables; arrays (registries, auth) are replaced, not merged. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k] as Record<string, unknown>, v) : v
  }
  return out
}

function toResponse(status: number, headers: Headers, body: Buffer): TestResponse {
  const h: Record<string, string> = {}
  headers.forEach((v, k) => {
    h[k] = v
  })
  return {
    status,
    headers: h,
    body,
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')),
  }
}

export interface KernelTestHandle extends TestKernel {
  /** The kernel itself, for kernel-internal tests. */
  readonly kernel: Kernel
  /** The database this kernel uses (pass the handle as `databaseOf` to start a second replica on it). */
  readonly databaseSettings: DatabaseSettings
}

export interface KernelTestOptions extends TestKernelOptions {
  setupTimeoutMs?: number
  /** Capture the kernel's JSON log lines (kernel-internal tests). */
  logDestination?: NodeJS.WritableStream
  logLevel?: LogLevel
  /**
   * Run on the database of another test kernel (a second replica): the same SQLite file or
   * PostgreSQL schema. The other kernel owns it and removes it when it closes.
   */
  databaseOf?: KernelTestHandle
}

export async function createTestKernel(options: KernelTestOptions = {}): Promise<KernelTestHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bh-kernel-'))
  const dialect = options.databaseOf?.databaseSettings.type ?? options.database ?? (process.env.BATLEHUB_TEST_DATABASE as 'sqlite' | 'postgresql' | undefined) ?? 'sqlite'
  const db = options.databaseOf
    ? { settings: options.databaseOf.databaseSettings, cleanup: async () => {} }
    : await testDatabaseSettings(dialect)
  const adminToken = `admin-${randomBytes(12).toString('hex')}`
  const userToken = `user-${randomBytes(12).toString('hex')}`
  const defaults: Record<string, unknown> = {
    server: { host: '127.0.0.1', port: 0, data_dir: dataDir },
    database: dialect === 'sqlite' ? { type: 'sqlite', path: db.settings.path } : { type: 'postgresql', url: db.settings.url, max_connections: 5 },
    storage: { type: 'filesystem', path: join(dataDir, 'storage') },
    auth: [{ type: 'token', tokens: [
      { value: adminToken, role: 'admin', user_id: 'admin' },
      { value: userToken, role: 'user', user_id: 'user' },
    ] }],
    logging: { level: 'info' },
  }
  const raw = mergeConfig(defaults, (options.config ?? {}) as Record<string, unknown>)
  const clock = new ManualClock()
  let kernel: Kernel
  try {
    kernel = await Kernel.create({
      rawConfig: raw,
      cwd: process.cwd(),
      plugins: options.plugins,
      discover: options.discover !== false,
      clock,
      logLevel: options.logLevel ?? (process.env.BATLEHUB_TEST_LOG as LogLevel | undefined) ?? 'silent',
      logDestination: options.logDestination,
      databaseSchema: db.settings.schema,
      setupTimeoutMs: options.setupTimeoutMs,
      print: () => {},
    })
  } catch (err) {
    await db.cleanup().catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  kernel.closeGraceMs = 200
  const url = await kernel.listen(0, '127.0.0.1')
  const configuredAuth = JSON.stringify((raw as any).auth ?? [])
  const effectiveAdmin = configuredAuth.includes(adminToken) ? adminToken : kernel.bootstrapToken ?? ''
  let closed = false
  return {
    kernel,
    databaseSettings: db.settings,
    url,
    adminToken: effectiveAdmin,
    userToken,
    clock,
    dataDir,
    async request(method: string, path: string, o: TestRequestOptions = {}): Promise<TestResponse> {
      const headers: Record<string, string> = { ...(o.headers ?? {}) }
      if (o.token) headers.authorization = `Bearer ${o.token}`
      let body: string | Buffer | undefined
      if (o.body !== undefined) {
        if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) body = o.body
        else {
          body = JSON.stringify(o.body)
          headers['content-type'] ??= 'application/json'
        }
      }
      const res = await fetch(url + path, { method, headers, body, redirect: 'manual' })
      return toResponse(res.status, res.headers, Buffer.from(await res.arrayBuffer()))
    },
    async close() {
      if (closed) return
      closed = true
      await kernel.close()
      await db.cleanup().catch(() => {})
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const TYPES: Record<string, string> = {
  '.json': 'application/json', '.html': 'text/html; charset=utf-8', '.tgz': 'application/octet-stream',
  '.xml': 'application/xml', '.txt': 'text/plain; charset=utf-8', '.zip': 'application/zip',
}

export async function fakeUpstream(routes?: Record<string, FixtureRoute> | string): Promise<FakeUpstream> {
  const table = new Map<string, FixtureRoute>()
  const dir = typeof routes === 'string' ? routes : undefined
  if (routes && typeof routes === 'object') for (const [k, v] of Object.entries(routes)) table.set(k, v)
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/'
    requests.push({ method: req.method ?? 'GET', path, headers: { ...req.headers } })
    const route = table.get(`${req.method} ${path}`) ?? table.get(`${req.method} ${path.split('?')[0]}`)
    if (route) {
      if (typeof route === 'function') return route(req, res)
      res.writeHead(route.status ?? 200, { ...(route.body !== undefined ? { 'content-length': String(Buffer.byteLength(route.body)) } : {}), ...(route.headers ?? {}) })
      res.end(req.method === 'HEAD' ? undefined : route.body)
      return
    }
    if (dir && (req.method === 'GET' || req.method === 'HEAD')) {
      const rel = normalize(decodeURIComponent(path.split('?')[0]!)).replace(/^([/\\])+/, '')
      const file = join(dir, rel)
      if (file.startsWith(normalize(dir) + sep) && existsSync(file) && statSync(file).isFile()) {
        const data = readFileSync(file)
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': String(data.length) })
        res.end(req.method === 'HEAD' ? undefined : data)
        return
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: 'not found' }))
  }
  const server = createServer((req, res) => {
    Promise.resolve(handle(req, res)).catch((err) => {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(err))
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get paths() {
      return requests.map((r) => r.path)
    },
    route(key: string, route: FixtureRoute) {
      table.set(key, route)
    },
    reset() {
      requests.length = 0
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
}
