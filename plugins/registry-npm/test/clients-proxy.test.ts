/**
 * Real clients through a proxy-mode hub: npm, pnpm, yarn classic and yarn berry install a
 * dependency tree (a → b → c, a scoped package, a bin) cold, then warm: upstream stopped, client
 * caches cleared, metadata past its TTL, and the install still succeeds from the hub's cache.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import npm from '../src/index.ts'
import { startFixtureRegistry, standardPackages, type FixtureRegistry } from './support/fixtures.ts'
import { createSandbox, expectOk, type ClientKind, type ClientSandbox } from './support/clients.ts'

const Clients = suite<{ kernel: TestKernel; upstream: FixtureRegistry; sandbox: ClientSandbox }>('npm proxy with real clients')

Clients.before.each(async (t) => {
  t.upstream = await startFixtureRegistry(standardPackages())
  t.kernel = await createTestKernel({
    plugins: [npm],
    config: { registries: [{ name: 'npm', type: 'npm', mode: 'proxy', upstreams: [t.upstream.url] }] },
  })
  t.sandbox = createSandbox(`${t.kernel.url}/proxy/npm/`)
  t.sandbox.writeProject({
    name: 'consumer', version: '1.0.0', private: true,
    dependencies: { 'fixture-a': '^1.0.0', '@fixture/scoped': '0.1.0', 'fixture-bin': '3.0.0' },
  })
})
Clients.after.each(async (t) => {
  t.sandbox.cleanup()
  await t.kernel.close()
  await t.upstream.close()
})

const INSTALL: Record<ClientKind, string[]> = {
  npm: ['install', '--no-audit', '--no-fund'],
  pnpm: ['install', '--no-frozen-lockfile', '--reporter=append-only', '--config.node-linker=hoisted'],
  yarn: ['install', '--no-lockfile', '--non-interactive', '--network-timeout', '60000'],
  berry: ['install'],
}

function installed(sandbox: ClientSandbox, name: string): string | undefined {
  const file = join(sandbox.project, 'node_modules', name, 'package.json')
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined
}

for (const kind of ['npm', 'pnpm', 'yarn', 'berry'] as const) {
  Clients(`${kind}: cold install, then warm with the upstream stopped`, async ({ kernel, upstream, sandbox }) => {
    expectOk(await sandbox.run(kind, INSTALL[kind]), `${kind} install (cold)`)
    assert.is(installed(sandbox, 'fixture-a'), '1.0.1')
    assert.is(installed(sandbox, 'fixture-c'), '1.1.0')
    assert.is(installed(sandbox, '@fixture/scoped'), '0.1.0')
    assert.is(installed(sandbox, 'fixture-bin'), '3.0.0')
    assert.ok(upstream.count('/fixture-c/-/fixture-c-1.1.0.tgz') === 1)

    await upstream.close()
    sandbox.clearClientState()
    kernel.clock.advance(3600_000)
    expectOk(await sandbox.run(kind, INSTALL[kind]), `${kind} install (warm, upstream down)`)
    assert.is(installed(sandbox, 'fixture-a'), '1.0.1')
    assert.is(installed(sandbox, 'fixture-c'), '1.1.0')
    assert.is(installed(sandbox, '@fixture/scoped'), '0.1.0')
  })
}

Clients.run()
