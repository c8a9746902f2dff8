/**
 * Runs the REAL package clients against a hub: npm (the one that ships with Node), pnpm, yarn
 * classic and yarn berry (exact-pinned dev dependencies), each with its own temporary HOME, cache and
 * configuration, on the pinned Node (process.execPath), talking to nothing but 127.0.0.1.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export type ClientKind = 'npm' | 'pnpm' | 'yarn' | 'berry'

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, bin)
    if (dir && existsSync(p)) return p
  }
  return undefined
}

/** The npm CLI script: `BATLEHUB_NPM_CLI`, else the npm that ships with the system's Node. */
export function npmCliPath(): string {
  if (process.env.BATLEHUB_NPM_CLI) return process.env.BATLEHUB_NPM_CLI
  const candidates = [which('npm'), '/usr/lib/node_modules/npm/bin/npm-cli.js', '/usr/local/lib/node_modules/npm/bin/npm-cli.js']
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue
    const real = realpathSync(c)
    const cli = real.endsWith('npm-cli.js') ? real : join(dirname(real), 'npm-cli.js')
    if (existsSync(cli)) return cli
  }
  throw new Error('npm CLI not found (set BATLEHUB_NPM_CLI)')
}

/** A package's folder in the nearest node_modules (some clients do not export package.json). */
function packageDir(name: string): string {
  let dir = dirname(new URL(import.meta.url).pathname)
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    const up = dirname(dir)
    if (up === dir) throw new Error(`${name} is not installed (npm install in the repository root)`)
    dir = up
  }
}

function script(kind: ClientKind): string {
  switch (kind) {
    case 'npm':
      return npmCliPath()
    case 'pnpm':
      return join(packageDir('pnpm'), 'bin', 'pnpm.cjs')
    case 'yarn':
      return join(packageDir('yarn'), 'bin', 'yarn.js')
    case 'berry':
      return join(packageDir('@yarnpkg/cli-dist'), 'bin', 'yarn.js')
  }
}

/** The result of one client run. */
export interface ClientResult {
  code: number
  stdout: string
  stderr: string
}

/** A sandbox: temporary HOME, caches and a project directory, configured for one registry URL. */
export interface ClientSandbox {
  readonly home: string
  readonly project: string
  readonly registry: string
  run(kind: ClientKind, args: string[], options?: { cwd?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ClientResult>
  /** Writes the project's package.json. */
  writeProject(pkg: Record<string, unknown>): void
  /** Deletes node_modules, lockfiles and every client cache (a cold client). */
  clearClientState(): void
  cleanup(): void
}

/**
 * Creates a sandbox whose clients use `registry` (the hub's registry URL, with a trailing slash)
 * with `token` as `_authToken`.
 */
export function createSandbox(registry: string, token?: string): ClientSandbox {
  const root = mkdtempSync(join(tmpdir(), 'bh-npm-client-'))
  const home = join(root, 'home')
  const project = join(root, 'project')
  mkdirSync(home, { recursive: true })
  mkdirSync(project, { recursive: true })
  const url = registry.endsWith('/') ? registry : `${registry}/`
  const hostPath = url.replace(/^https?:/, '')
  const caches = {
    npm: join(root, 'cache', 'npm'),
    pnpmStore: join(root, 'cache', 'pnpm-store'),
    pnpmCache: join(root, 'cache', 'pnpm-cache'),
    pnpmState: join(root, 'cache', 'pnpm-state'),
    yarn: join(root, 'cache', 'yarn'),
    berry: join(root, 'cache', 'berry'),
    berryGlobal: join(root, 'cache', 'berry-global'),
  }
  const npmrc = [
    `registry=${url}`,
    ...(token ? [`${hostPath}:_authToken=${token}`] : []),
    `cache=${caches.npm}`,
    'audit=false',
    'fund=false',
    'update-notifier=false',
    'fetch-retries=0',
    'fetch-timeout=60000',
    'loglevel=warn',
    '',
  ].join('\n')
  writeFileSync(join(home, '.npmrc'), npmrc)
  // Yarn classic reads the registry from .yarnrc and the token from .npmrc.
  writeFileSync(join(home, '.yarnrc'), `registry "${url}"\ncache-folder "${caches.yarn}"\ndisable-self-update-check true\n`)
  const berryRc = [
    `npmRegistryServer: "${url.replace(/\/$/, '')}"`,
    ...(token ? [`npmAuthToken: "${token}"`, 'npmAlwaysAuth: true'] : []),
    'unsafeHttpWhitelist:',
    '  - "127.0.0.1"',
    'enableGlobalCache: false',
    `cacheFolder: "${caches.berry}"`,
    `globalFolder: "${caches.berryGlobal}"`,
    'nodeLinker: node-modules',
    'enableTelemetry: false',
    'enableImmutableInstalls: false',
    'enableScripts: false',
    // Yarn 4 quarantines versions younger than a day by default; local publishes are seconds old.
    'npmMinimalAgeGate: 0',
    '',
  ].join('\n')

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    USERPROFILE: home,
    TMPDIR: join(root, 'tmp'),
    npm_config_userconfig: join(home, '.npmrc'),
    NO_UPDATE_NOTIFIER: '1',
    COREPACK_ENABLE_STRICT: '0',
    YARN_ENABLE_TELEMETRY: '0',
    YARN_IGNORE_PATH: '1',
    CI: '1',
    FORCE_COLOR: '0',
    ...extra,
  })
  mkdirSync(join(root, 'tmp'), { recursive: true })

  return {
    home,
    project,
    registry: url,
    writeProject(pkg) {
      writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2))
      writeFileSync(join(project, '.yarnrc.yml'), berryRc)
    },
    run(kind, args, options = {}) {
      const cwd = options.cwd ?? project
      return new Promise((resolve, reject) => {
        // pnpm-only settings go on its command line: npm warns about unknown .npmrc keys.
        const extra = kind === 'pnpm' ? [`--store-dir=${caches.pnpmStore}`, `--config.cache-dir=${caches.pnpmCache}`, `--config.state-dir=${caches.pnpmState}`] : []
        const child = spawn(process.execPath, [script(kind), ...args, ...extra], { cwd, env: env(options.env), stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
        child.on('error', (err) => {
          clearTimeout(timer)
          reject(err)
        })
        child.on('close', (code) => {
          clearTimeout(timer)
          resolve({ code: code ?? -1, stdout, stderr })
        })
      })
    },
    clearClientState() {
      for (const p of ['node_modules', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', '.pnp.cjs', '.yarn']) rmSync(join(project, p), { recursive: true, force: true })
      for (const c of Object.values(caches)) rmSync(c, { recursive: true, force: true })
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** Fails with the client's output when a run did not succeed. */
export function expectOk(r: ClientResult, what: string): ClientResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`)
  return r
}
