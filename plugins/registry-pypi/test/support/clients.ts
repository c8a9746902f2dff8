/**
 * Runs the real Python clients: `python3 -m pip` (into a temporary `--target`, never the system
 * site-packages, with no cache and no user configuration) and `twine upload`.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Debian's interpreter (what ci-setup.sh installs pip for), else whatever `python3` is. */
export const PYTHON = process.env.BATLEHUB_TEST_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3')
export const TWINE = process.env.BATLEHUB_TEST_TWINE || (existsSync('/usr/bin/twine') ? '/usr/bin/twine' : 'twine')

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** stdout and stderr together, whitespace runs folded to one space (clients wrap long lines). */
  output: string
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0
      resolve({ code, stdout: String(stdout), stderr: String(stderr), output: `${stdout}\n${stderr}`.replace(/\s+/g, ' ') })
    })
  })
}

/** A scratch directory (HOME for the clients, pip's --target) removed by `cleanup`. */
export function scratch(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bh-pypi-client-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The environment every client run gets: an empty HOME, no user or site configuration. */
function isolated(home: string): Record<string, string> {
  return {
    HOME: home,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    // twine must not reach for a desktop keyring.
    PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
    TWINE_NON_INTERACTIVE: '1',
    NO_COLOR: '1',
    // twine wraps its messages to the terminal width.
    COLUMNS: '1000',
  }
}

/** The index URL with `__token__` credentials (pip sends them as Basic auth). */
export function indexUrl(base: string, token?: string): string {
  const u = new URL(`${base}/simple/`)
  if (token) {
    u.username = '__token__'
    u.password = token
  }
  return u.toString()
}

/**
 * `pip install` into `target` from the hub only (`--index-url`, no PyPI fallback), no cache.
 * Returns the run and the names of the installed `.dist-info` directories.
 */
export async function pipInstall(o: { base: string; token?: string; home: string; target: string; packages: string[]; extra?: string[] }): Promise<RunResult & { installed: string[] }> {
  const result = await run(PYTHON, [
    '-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input',
    '--retries', '0', '--timeout', '30',
    '--index-url', indexUrl(o.base, o.token), '--target', o.target, ...(o.extra ?? []), ...o.packages,
  ], isolated(o.home))
  const installed = existsSync(o.target) ? readdirSync(o.target).filter((d) => d.endsWith('.dist-info')).sort() : []
  return { ...result, installed }
}

/** Imports a module from `target` and prints its `__version__`. */
export async function importVersion(target: string, module: string, home: string): Promise<string> {
  const r = await run(PYTHON, ['-c', `import ${module}; print(${module}.__version__)`], { ...isolated(home), PYTHONPATH: target })
  if (r.code !== 0) throw new Error(`import ${module} failed: ${r.stderr}`)
  return r.stdout.trim()
}

/** `twine upload` of `files` to the hub's `/legacy/` with `__token__`. */
export function twineUpload(o: { base: string; token: string; home: string; files: string[]; extra?: string[] }): Promise<RunResult> {
  return run(TWINE, [
    '--no-color', 'upload', '--non-interactive', '--disable-progress-bar',
    '--repository-url', `${o.base}/legacy/`, '-u', '__token__', '-p', o.token, ...(o.extra ?? []), ...o.files,
  ], isolated(o.home))
}

let pipVersionMemo: Promise<[number, number]> | undefined
/** The pip version of {@link PYTHON}, as [major, minor]. */
export function pipVersion(): Promise<[number, number]> {
  pipVersionMemo ??= run(PYTHON, ['-m', 'pip', '--version']).then((r) => {
    const m = /^pip (\d+)\.(\d+)/.exec(r.stdout)
    return m ? [Number(m[1]), Number(m[2])] : [0, 0]
  })
  return pipVersionMemo
}
