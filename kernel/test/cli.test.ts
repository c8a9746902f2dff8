import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { verifySecret } from '@batlehub/sdk'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

function run(args: string[], o: { cwd: string; input?: string; env?: Record<string, string>; untilOutput?: RegExp }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      if (o.untilOutput && o.untilOutput.test(stderr)) child.kill('SIGTERM')
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(o.input ?? '')
  })
}

const Cli = suite<{ dir: string }>('batlehub CLI')
Cli.before.each((t) => {
  t.dir = mkdtempSync(join(tmpdir(), 'bh-cli-'))
})
Cli.after.each((t) => {
  rmSync(t.dir, { recursive: true, force: true })
})

Cli('hash-token prints an Argon2id hash of its argument or of stdin', async ({ dir }) => {
  const a = await run(['hash-token', 'my-secret'], { cwd: dir })
  assert.is(a.code, 0)
  assert.ok(await verifySecret('my-secret', a.stdout.trim()), a.stdout)
  const b = await run(['hash-token'], { cwd: dir, input: 'piped-secret\n' })
  assert.is(b.code, 0)
  assert.ok(await verifySecret('piped-secret', b.stdout.trim()))
  assert.not.ok(await verifySecret('piped-secret\n', b.stdout.trim()))
})

Cli('check-config prints every error with its key path and exits 1', async ({ dir }) => {
  writeFileSync(join(dir, 'config.toml'), `
[server]
prot = 8080

[[registries]]
name = "Bad Name"
type = "nmp"
`)
  const r = await run(['check-config'], { cwd: dir })
  assert.is(r.code, 1)
  assert.match(r.stderr, /configuration is invalid:/)
  assert.match(r.stderr, /server\.prot: unknown key/)
  assert.match(r.stderr, /registries\[0\]\.name: must be URL-safe/)
  assert.match(r.stderr, /registries\[0\]\.type: unknown registry type "nmp" \(known: /)
})

Cli('check-config names a missing environment variable', async ({ dir }) => {
  writeFileSync(join(dir, 'hub.toml'), '[database]\ntype = "postgresql"\nurl = "${BH_TEST_UNSET_DB_URL}"\n')
  const r = await run(['check-config', '--config', join(dir, 'hub.toml')], { cwd: dir })
  assert.is(r.code, 1)
  assert.match(r.stderr, /BH_TEST_UNSET_DB_URL/)
})

Cli('check-config accepts config.example.toml', async ({ dir }) => {
  const example = fileURLToPath(new URL('../../../config.example.toml', import.meta.url))
  const r = await run(['check-config', '--config', example], { cwd: dir })
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /^configuration OK/)
})

Cli('dump-spec prints the OpenAPI document', async ({ dir }) => {
  const r = await run(['dump-spec'], { cwd: dir })
  assert.is(r.code, 0)
  const spec = JSON.parse(r.stdout)
  assert.is(spec.openapi, '3.1.0')
  assert.ok(spec.paths['/api/v1/registries'])
})

Cli('serve with no config file starts on the defaults and prints a bootstrap admin token once', async ({ dir }) => {
  const env = { PROXY_CACHE__SERVER__PORT: '0' }
  const first = await run(['serve'], { cwd: dir, env, untilOutput: /BatleHub listening on http:\/\/127\.0\.0\.1:\d+/ })
  assert.match(first.stderr, /generated one/)
  assert.match(first.stderr, /bh_[A-Za-z0-9_-]{43}/)
  assert.match(first.stderr, /config: <defaults>/)
  // The defaults proxy every public ecosystem whose plugin is installed.
  assert.match(first.stderr, /registries: [^\n]*\bnpm\b/)
  assert.match(first.stderr, /registries: [^\n]*\bgoproxy\b/)
  const second = await run(['serve'], { cwd: dir, env, untilOutput: /BatleHub listening/ })
  assert.not.match(second.stderr, /bh_[A-Za-z0-9_-]{43}/, 'the token is printed only once')
  const migrate = await run(['migrate'], { cwd: dir })
  assert.is(migrate.code, 0)
  assert.match(migrate.stdout, /database is up to date/)
})

Cli('unknown commands exit 2 with the usage', async ({ dir }) => {
  const r = await run(['frobnicate'], { cwd: dir })
  assert.is(r.code, 2)
  assert.match(r.stderr, /Usage: batlehub/)
})

Cli.run()
