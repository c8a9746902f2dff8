/**
 * A fixture Go module proxy: real module zips (the layout golang.org/x/mod/zip produces), go.mod
 * files, .info documents, version lists and @latest, served on 127.0.0.1 in the GOPROXY protocol.
 */
import { spawn } from 'node:child_process'
import yazl from 'yazl'
import { fakeUpstream, type FakeUpstream } from '@batlehub/sdk/testing'
import { escapePath, latestOf } from '../../src/module.ts'

export interface FixtureModule {
  path: string
  version: string
  /** Files relative to the module root; `go.mod` included unless the module predates modules. */
  files: Record<string, string>
  time: string
}

/** A module zip: every entry under `{module}@{version}/`. */
export function moduleZip(module: string, version: string, files: Record<string, string>, prefix = `${module}@${version}/`): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), `${prefix}${name}`, { mtime: new Date('2020-01-01T00:00:00Z') })
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    zip.outputStream.on('error', reject)
  })
}

export const DEP_V1: FixtureModule = {
  path: 'example.com/dep',
  version: 'v1.0.0',
  time: '2024-01-01T00:00:00Z',
  files: { 'go.mod': 'module example.com/dep\n\ngo 1.18\n', 'dep.go': 'package dep\n\n// Answer is the answer.\nfunc Answer() int { return 42 }\n' },
}

const lib = (version: string, time: string, withDep: boolean): FixtureModule => ({
  path: 'example.com/lib',
  version,
  time,
  files: withDep
    ? {
      'go.mod': 'module example.com/lib\n\ngo 1.18\n\nrequire example.com/dep v1.0.0\n',
      'lib.go': 'package lib\n\nimport "example.com/dep"\n\n// Value returns a value from the dependency.\nfunc Value() int { return dep.Answer() }\n',
    }
    : { 'go.mod': 'module example.com/lib\n\ngo 1.18\n', 'lib.go': 'package lib\n\n// Value returns one.\nfunc Value() int { return 1 }\n' },
})

/** dep v1.0.0; lib v1.0.0, v1.1.0 (depends on dep), v1.2.0-beta.1 (pre-release); a mixed-case path. */
export const FIXTURE_MODULES: FixtureModule[] = [
  DEP_V1,
  lib('v1.0.0', '2024-01-02T00:00:00Z', false),
  lib('v1.1.0', '2024-02-01T00:00:00Z', true),
  lib('v1.2.0-beta.1', '2024-03-01T00:00:00Z', true),
  {
    path: 'example.com/BigCo/tool',
    version: 'v0.3.0',
    time: '2024-01-05T00:00:00Z',
    files: { 'go.mod': 'module example.com/BigCo/tool\n\ngo 1.18\n', 'tool.go': 'package tool\n\n// Name names the tool.\nfunc Name() string { return "tool" }\n' },
  },
]

export interface GoUpstream extends FakeUpstream {
  zips: Map<string, Buffer>
}

/** Serves the modules in the GOPROXY protocol. */
export async function startGoUpstream(modules: FixtureModule[] = FIXTURE_MODULES): Promise<GoUpstream> {
  const routes: Record<string, { status?: number; headers?: Record<string, string>; body: string | Buffer }> = {}
  const zips = new Map<string, Buffer>()
  const byPath = new Map<string, FixtureModule[]>()
  for (const m of modules) byPath.set(m.path, [...(byPath.get(m.path) ?? []), m])
  for (const [path, versions] of byPath) {
    const esc = escapePath(path)
    routes[`GET /${esc}/@v/list`] = { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: versions.map((v) => `${v.version}\n`).join('') }
    for (const m of versions) {
      const info = JSON.stringify({ Version: m.version, Time: m.time })
      routes[`GET /${esc}/@v/${m.version}.info`] = { headers: { 'content-type': 'application/json' }, body: info }
      routes[`GET /${esc}/@v/${m.version}.mod`] = { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: m.files['go.mod'] ?? `module ${path}\n` }
      const zip = await moduleZip(m.path, m.version, m.files)
      zips.set(`${m.path}@${m.version}`, zip)
      routes[`GET /${esc}/@v/${m.version}.zip`] = { headers: { 'content-type': 'application/zip' }, body: zip }
    }
    const latest = latestOf(versions.map((v) => v.version))!
    const lm = versions.find((v) => v.version === latest)!
    routes[`GET /${esc}/@latest`] = { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Version: lm.version, Time: lm.time }) }
  }
  const upstream = await fakeUpstream(routes)
  return Object.assign(upstream, { zips })
}

/** Runs the go command with an isolated environment; resolves with its output. */
export function goCommand(args: string[], o: { cwd: string; home: string; proxy: string; env?: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('go', args, {
      cwd: o.cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: o.home,
        GOPATH: `${o.home}/gopath`,
        GOMODCACHE: `${o.home}/modcache`,
        GOCACHE: process.env.BATLEHUB_TEST_GOCACHE ?? `${o.home}/gocache`,
        GOPROXY: o.proxy,
        GOSUMDB: 'off',
        GONOSUMDB: '*',
        GOFLAGS: '-mod=mod',
        GO111MODULE: 'on',
        GOTOOLCHAIN: 'local',
        CGO_ENABLED: '0',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
