// A real hub for the UI's browser tests: the kernel (SQLite, filesystem storage, 127.0.0.1), the
// demo registry plugin folder (hooks + UI contributions), and explorer data written to the same
// tables the proxy/cache engine and the local store fill.
import { fileURLToPath } from 'node:url'
import { createTestKernel } from '../../kernel/dist/src/testing/index.js'
import { PackageStatus, LocalPackage, LocalVersion, BetaChannelMember } from '../../kernel/dist/src/db/entities.js'

const DAY = 86_400_000

export async function startHub() {
  const upstream = 'http://127.0.0.1:9' // never contacted: the demo plugin answers from fixtures
  const kernel = await createTestKernel({
    database: 'sqlite',
    plugins: [fileURLToPath(new URL('./fixtures/demo-plugin', import.meta.url))],
    config: {
      auth: [{ type: 'token', tokens: [
        { value: 'ui-admin-token', role: 'admin', user_id: 'admin' },
        { value: 'ui-user-token', role: 'user', user_id: 'dev', groups: ['frontend'] },
        { value: 'ui-beta-token', role: 'user', user_id: 'tester' },
      ] }],
      registries: [
        { name: 'npm', type: 'demo', upstreams: [upstream] },
        { name: 'internal', type: 'demo', mode: 'hybrid', upstreams: [upstream], beta_channel: { enabled: true } },
        { name: 'bulk', type: 'demo', upstreams: [upstream] },
        { name: 'empty', type: 'demo', upstreams: [upstream] },
        // Users may proxy but not browse it (seed "Proxy access vs. explore access").
        { name: 'ci-only', type: 'demo', upstreams: [upstream], rbac: { user: ['releases:read', 'source:read'], admin: ['*'], explore: { user: false } } },
      ],
    },
  })
  const now = kernel.clock.now()
  const em = kernel.kernel.db.em()
  const status = (registry, name, version, downloads, ageDays) => em.create(PackageStatus, {
    registry, packageName: name, packageVersion: version, downloadCount: downloads,
    firstSeenAt: new Date(now - (ageDays + 1) * DAY), lastAccessedAt: new Date(now - ageDays * DAY),
  })
  status('npm', 'lodash', '4.17.21', 1500, 0.01)
  status('npm', 'lodash', '4.17.20', 300, 3)
  status('npm', 'lodash', '5.0.0-beta.1', 12, 1)
  status('npm', 'react', '18.3.1', 900, 0.5)
  status('npm', '@types/node', '22.1.0', 640, 2)
  status('npm', 'left-pad', '1.3.0', 44, 30)
  status('ci-only', 'secret-tool', '1.0.0', 5, 1)
  for (let i = 1; i <= 25; i++) status('bulk', `pkg-${String(i).padStart(2, '0')}`, '1.0.0', 100 - i, i)
  const kit = em.create(LocalPackage, { registry: 'internal', name: '@acme/ui-kit', normalizedName: '@acme/ui-kit', visibility: 'public', createdAt: new Date(now - 10 * DAY), updatedAt: new Date(now - DAY) })
  em.create(LocalVersion, { package: kit, version: '1.0.0', prerelease: false, publishedAt: new Date(now - 10 * DAY), yanked: false })
  em.create(LocalVersion, { package: kit, version: '1.1.0', prerelease: false, publishedAt: new Date(now - 5 * DAY), yanked: true, yankReason: 'broken build' })
  em.create(LocalVersion, { package: kit, version: '2.0.0-rc.1', prerelease: true, publishedAt: new Date(now - DAY), yanked: false })
  // A hybrid package with both hosted and proxied versions ("Both").
  const shared = em.create(LocalPackage, { registry: 'internal', name: 'lodash', normalizedName: 'lodash', visibility: 'public', createdAt: new Date(now - 3 * DAY), updatedAt: new Date(now - 3 * DAY) })
  em.create(LocalVersion, { package: shared, version: '4.17.22-acme.1', prerelease: true, publishedAt: new Date(now - 3 * DAY), yanked: false })
  status('internal', 'lodash', '4.17.21', 7, 0.2)
  em.create(BetaChannelMember, { registry: 'internal', principalType: 'user', principalId: 'tester', addedBy: 'admin' })
  await em.flush()

  // Blocks go through the policy API, like an administrator's.
  const block = await fetch(`${kernel.url}/api/v1/admin/packages/block`, {
    method: 'POST',
    headers: { authorization: 'Bearer ui-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify({ registry: 'npm', name: 'lodash', version: '4.17.20', reason: 'CVE-2021-23337 command injection' }),
  })
  if (!block.ok) throw new Error(`block failed: ${block.status} ${await block.text()}`)

  const db = kernel.kernel.db
  let offline = false
  return {
    url: kernel.url,
    tokens: { admin: 'ui-admin-token', user: 'ui-user-token', beta: 'ui-beta-token' },
    /** A real database failure for the explorer: its main table disappears (and comes back). */
    async outage(on) {
      if (on === offline) return
      await db.execute(on ? 'alter table package_statuses rename to package_statuses_offline' : 'alter table package_statuses_offline rename to package_statuses')
      offline = on
    },
    close: () => kernel.close(),
  }
}
