// Keeps docs/configuration.md honest: its full example must load, and every kernel key must be documented.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseToml, substituteEnv, validateConfig } from '../src/config/load.ts'
import * as schema from '../src/config/schema.ts'
import { makeCatalog, npmEntry, oidcAuth, tokenAuth } from './fixtures/config/catalog.ts'

// Compiled to kernel/dist/test/; the doc lives at the repository root.
const DOC = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url))
const text = readFileSync(DOC, 'utf8')

const Docs = suite('config: docs/configuration.md')

Docs('the full example is a valid configuration', () => {
  const block = /## Full example\s+```toml\n([\s\S]*?)```/.exec(text)?.[1]
  assert.ok(block, 'full example block found')
  const env = { DB_PASSWORD: 'pw', S3_SECRET: 's3', ADMIN_TOKEN: 'adm', OIDC_CLIENT_SECRET: 'oidc', REGISTRY_TOKEN: 'tok' }
  const cargo = { id: 'cargo', capabilities: { proxy: true, publish: true }, defaultUpstreams: ['https://index.crates.io'] }
  const cat = makeCatalog([npmEntry, cargo], [tokenAuth, oidcAuth])
  const config = validateConfig(parseToml(substituteEnv(block!, env), 'example.toml'), cat, { baseDir: '/etc/batlehub' })
  assert.equal(config.registries.map((r) => `${r.name}:${r.type}:${r.mode}:${r.storage}`), [
    'npm:npm:proxy:default', 'npm-internal:npm:proxy:default', 'internal:cargo:local:github-s3',
  ])
  assert.is(config.database.url, 'postgresql://batlehub:pw@postgres:5432/batlehub')
  assert.is(config.storage.backends[0]!.type === 's3' && config.storage.backends[0]!.endpoint_url, 'http://rustfs:9900')
})

Docs('every kernel key is documented', () => {
  const objects: [string, unknown][] = [
    ['server', schema.ServerConfig], ['database', schema.DatabaseConfig], ['storage (filesystem)', schema.FilesystemBackendConfig],
    ['storage (s3)', schema.S3BackendConfig], ['cache', schema.CacheConfig], ['plugins', schema.PluginsConfig],
    ['logging', schema.LoggingConfig], ['otel', schema.OtelConfig], ['ip_blocking', schema.IpBlockingConfig],
    ['registries', schema.RegistryKernelConfig], ['registries.cache', schema.RegistryCacheConfig],
    ['registries.versioning', schema.VersioningConfig], ['registries.signing', schema.SigningConfig],
    ['registries.quota', schema.QuotaConfig], ['registries.sbom', schema.SbomConfig], ['registries.tls', schema.TlsConfig],
    ['registries.rbac.explore', schema.RbacExploreConfig],
    ['rate_limit', schema.RateLimitConfig], ['rate_limit.limits', schema.RateLimitLimitsConfig],
    ['rate_limit.groups', schema.RateLimitGroupConfig], ['audit', schema.AuditConfig],
  ]
  const missing: string[] = []
  for (const [where, s] of objects) {
    for (const key of Object.keys((s as { properties: object }).properties)) {
      if (!text.includes(`\`${key}\``)) missing.push(`${where}.${key}`)
    }
  }
  // Top-level tables are documented as `[server]` / `[[registries]]` headings.
  for (const key of Object.keys(schema.KernelConfig.properties)) {
    if (!text.includes(`### \`[${key}]\``) && !text.includes(`### \`[[${key}]]\``)) missing.push(`top level.${key}`)
  }
  assert.equal(missing, [])
})
Docs.run()
