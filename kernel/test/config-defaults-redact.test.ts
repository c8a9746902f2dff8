import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultConfig } from '../src/config/defaults.ts'
import { parseToml, validateConfig } from '../src/config/load.ts'
import { REDACTED, redactConfig, redactUrl } from '../src/config/redact.ts'
import type { HubConfig } from '../src/config/schema.ts'
import { catalog, makeCatalog, cargoEntry, mavenEntry, npmEntry, oidcAuth, pypiEntry, tokenAuth } from './fixtures/config/catalog.ts'

// ---------------------------------------------------------------------------------------------
const Defaults = suite('config: defaultConfig')

const READ = ['releases:read', 'source:read']

Defaults('one anonymous-readable proxy registry per proxy plugin with default upstreams, plus token auth', () => {
  const goproxy = { id: 'goproxy', capabilities: { proxy: true, publish: true }, defaultUpstreams: ['https://proxy.golang.org'] }
  const cat = makeCatalog([npmEntry, cargoEntry, pypiEntry, mavenEntry, goproxy], [oidcAuth, tokenAuth])
  assert.equal(defaultConfig(cat), {
    server: { host: '127.0.0.1', port: 8080, data_dir: './data' },
    database: { type: 'sqlite' },
    storage: { type: 'filesystem' },
    auth: [{ type: 'token' }],
    // cargo: no default upstreams; pypi: cannot proxy; maven: needs a key without default.
    registries: [
      { name: 'goproxy', type: 'goproxy', mode: 'proxy', rbac: { anonymous: READ, user: READ, admin: ['*'] } },
      { name: 'npm', type: 'npm', mode: 'proxy', rbac: { anonymous: READ, user: READ, admin: ['*'] } },
    ],
  })
})

Defaults('no token plugin: no auth provider', () => {
  assert.equal(defaultConfig(makeCatalog([], [oidcAuth]))['auth'], [])
})

Defaults('the default config validates', () => {
  const config = validateConfig(defaultConfig(catalog), catalog, { baseDir: '/work' })
  assert.is(config.server.data_dir, '/work/data')
  assert.is(config.database.path, '/work/data/batlehub.db')
  assert.equal(config.storage, { type: 'filesystem', backends: [], path: '/work/data/storage' })
  assert.equal(config.auth, [{ type: 'token', plugin: { tokens: [] } }])
  assert.equal(config.registries.map((r) => [r.name, r.upstreams, r.rbac.anonymous]), [['npm', ['https://registry.npmjs.org'], READ]])
})
Defaults.run()

// ---------------------------------------------------------------------------------------------
const Redact = suite<{ config: HubConfig }>('config: redactConfig')

const SECRETS = `
[database]
type = "postgresql"
url = "postgresql://batlehub:changeme@postgres:5432/batlehub"

[cache]
type = "redis"
url = "redis://:hunter2@cache:6379/0"

[storage]
type = "s3"
bucket = "artifacts"
access_key_id = "AKIAEXAMPLE"
secret_access_key = "wJalrXUtnFEMI"

[[storage.backends]]
name = "other"
type = "s3"
bucket = "b2"
secret_access_key = "other-secret"

[[auth]]
type = "token"
[[auth.tokens]]
value = "change-me-admin-token"
role = "admin"

[[auth]]
type = "oidc"
issuer_url = "https://sso.example.com"
client_id = "batlehub"
client_secret = "oidc-secret"

[[registries]]
name = "a"
type = "npm"
auth_token = "plugin-secret"
[registries.upstream_auth]
type = "bearer"
token = "npat-xxxx"

[[registries]]
name = "b"
type = "npm"
[registries.upstream_auth]
type = "basic"
username = "deploy"
password = "nexus-pw"

[[registries]]
name = "c"
type = "npm"
[registries.upstream_auth]
type = "header"
name = "X-API-Key"
value = "api-key-value"
`

Redact.before.each((t) => { t.config = validateConfig(parseToml(SECRETS, 'c.toml'), catalog, { baseDir: '/srv' }) })

Redact('replaces every secret, keeps everything else', ({ config }) => {
  const red = redactConfig(config)
  assert.is(red.database.url, 'postgresql://batlehub:***@postgres:5432/batlehub')
  assert.is(red.cache.url, 'redis://:***@cache:6379/0')
  assert.equal(red.storage, {
    type: 's3', bucket: 'artifacts', access_key_id: 'AKIAEXAMPLE', secret_access_key: REDACTED, region: 'us-east-1', force_path_style: false,
    backends: [{ name: 'other', type: 's3', bucket: 'b2', secret_access_key: '***', region: 'us-east-1', force_path_style: false }],
  })
  assert.equal(red.auth, [
    { type: 'token', plugin: { tokens: [{ value: '***', role: 'admin' }] } },
    { type: 'oidc', plugin: { issuer_url: 'https://sso.example.com', client_id: 'batlehub', client_secret: '***', scopes: ['openid'] } },
  ])
  assert.equal(red.registries.map((r) => r.upstream_auth), [
    { type: 'bearer', token: '***' },
    { type: 'basic', username: 'deploy', password: '***' },
    { type: 'header', name: 'X-API-Key', value: '***' },
  ])
  assert.equal(red.registries[0]!.plugin, { auth_token: '***', foo_bar: false, scopes: { strip: true } })
  assert.equal(red.registries[0]!.rbac, config.registries[0]!.rbac)
  assert.equal(red.server, config.server)
})

Redact('the original stays intact and no secret survives anywhere in the copy', ({ config }) => {
  const red = JSON.stringify(redactConfig(config))
  for (const s of ['changeme', 'hunter2', 'wJalrXUtnFEMI', 'other-secret', 'change-me-admin-token', 'oidc-secret', 'plugin-secret', 'npat-xxxx', 'nexus-pw', 'api-key-value']) {
    assert.not.ok(red.includes(s), s)
  }
  assert.is(config.storage.type === 's3' && config.storage.secret_access_key, 'wJalrXUtnFEMI')
  assert.is(config.registries[1]!.upstream_auth?.type === 'basic' && config.registries[1]!.upstream_auth.password, 'nexus-pw')
})

Redact('plugin schemas: from the catalog if given; by key name when unknown', ({ config }) => {
  // A copy loses what validateConfig remembered about plugin schemas.
  const copy = JSON.parse(JSON.stringify(config)) as HubConfig
  const byName = redactConfig(copy)
  assert.equal(byName.auth[0]!.plugin, { tokens: '***' })
  assert.equal(byName.auth[1]!.plugin, { issuer_url: 'https://sso.example.com', client_id: 'batlehub', client_secret: '***', scopes: ['openid'] })
  assert.equal(byName.registries[0]!.plugin, { auth_token: '***', foo_bar: false, scopes: { strip: true } })
  const withCatalog = redactConfig(copy, catalog)
  assert.equal(withCatalog.auth[0]!.plugin, { tokens: [{ value: '***', role: 'admin' }] })
})

Redact('redactUrl', () => {
  assert.is(redactUrl('postgresql://u:p@h/db'), 'postgresql://u:***@h/db')
  assert.is(redactUrl('postgresql://h/db'), 'postgresql://h/db')
  assert.is(redactUrl('not a url with :secret@'), '***')
})
Redact.run()
