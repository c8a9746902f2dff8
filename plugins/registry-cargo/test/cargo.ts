/**
 * Drives the real cargo in a sandbox: its own CARGO_HOME, target directory and projects in a
 * temporary directory, no network retries, short timeouts, and nothing inherited from the
 * machine's cargo configuration (so it can only reach the registries the test configures).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let binaries: { cargo: string; rustc?: string } | undefined

/** The real cargo (and rustc) binaries, past the rustup proxies when rustup is installed. */
export function cargoBinaries(): { cargo: string; rustc?: string } {
  if (binaries) return binaries
  try {
    const cargo = execFileSync('rustup', ['which', 'cargo'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const rustc = execFileSync('rustup', ['which', 'rustc'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    binaries = { cargo, rustc }
  } catch {
    binaries = { cargo: 'cargo' }
  }
  return binaries
}

/** The result of one cargo run. */
export interface CargoRun {
  code: number | null
  stdout: string
  stderr: string
}

/** A dependency line of a test project. */
export interface ProjectDep {
  name: string
  req: string
  registry?: string
}

export class CargoSandbox {
  readonly dir: string
  readonly home: string
  readonly target: string
  private readonly env: Record<string, string>

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'bh-cargo-'))
    this.home = join(this.dir, 'cargo-home')
    this.target = join(this.dir, 'target')
    mkdirSync(this.home)
    const { rustc } = cargoBinaries()
    const keep = ['PATH', 'HOME', 'RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'TMPDIR', 'LANG']
    this.env = {}
    for (const k of keep) if (process.env[k] !== undefined) this.env[k] = process.env[k]!
    Object.assign(this.env, {
      CARGO_HOME: this.home,
      CARGO_TARGET_DIR: this.target,
      CARGO_NET_RETRY: '0',
      CARGO_HTTP_TIMEOUT: '30',
      CARGO_TERM_COLOR: 'never',
      CARGO_TERM_PROGRESS_WHEN: 'never',
      CARGO_INCREMENTAL: '0',
      ...(rustc ? { RUSTC: rustc } : {}),
    })
  }

  /** A fresh CARGO_HOME (empty download and index caches), keeping the sandbox's projects. */
  freshHome(): void {
    rmSync(this.home, { recursive: true, force: true })
    rmSync(this.target, { recursive: true, force: true })
    mkdirSync(this.home)
  }

  /** Writes `$CARGO_HOME/config.toml`. */
  config(toml: string): void {
    writeFileSync(join(this.home, 'config.toml'), toml)
  }

  /** Writes `$CARGO_HOME/credentials.toml`. */
  credentials(toml: string): void {
    writeFileSync(join(this.home, 'credentials.toml'), toml)
  }

  /** Creates a library or binary project; returns its directory. */
  project(name: string, options: { version?: string; deps?: ProjectDep[]; lib?: string; main?: string; publish?: string[]; description?: string } = {}): string {
    const dir = join(this.dir, 'projects', `${name}-${options.version ?? '0.1.0'}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(join(dir, 'src'), { recursive: true })
    let toml = `[package]\nname = "${name}"\nversion = "${options.version ?? '0.1.0'}"\nedition = "2021"\nlicense = "MIT"\ndescription = "${options.description ?? `test crate ${name}`}"\n`
    if (options.publish) toml += `publish = ${JSON.stringify(options.publish)}\n`
    toml += '\n[dependencies]\n'
    for (const d of options.deps ?? []) {
      toml += d.registry ? `${d.name} = { version = "${d.req}", registry = "${d.registry}" }\n` : `${d.name} = "${d.req}"\n`
    }
    writeFileSync(join(dir, 'Cargo.toml'), toml)
    if (options.main !== undefined) writeFileSync(join(dir, 'src', 'main.rs'), options.main)
    else writeFileSync(join(dir, 'src', 'lib.rs'), options.lib ?? `pub fn hello() -> &'static str { "${name}" }\n`)
    return dir
  }

  /** Runs cargo; never throws on a non-zero exit (tests assert on the result). */
  run(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CargoRun> {
    const { cargo } = cargoBinaries()
    return new Promise((resolve, reject) => {
      const child = spawn(cargo, args, { cwd: options.cwd ?? this.dir, env: { ...this.env, ...(options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
      child.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Formats a run for assertion messages. */
export function show(r: CargoRun): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}
