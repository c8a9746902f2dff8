import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import Type from 'typebox'
import { Settings } from 'typebox/system'
import { ConfigError, parseToml, resolvePaths, validateConfig } from '../src/config/load.ts'
import { formatPath } from '../src/config/errors.ts'
import { rbacGrants, type HubConfig, type PluginCatalog } from '../src/config/schema.ts'
import { catalog, makeCatalog, npmEntry } from './fixtures/config/catalog.ts'

const BASE = '/srv/hub'
const validate = (toml: string, cat: PluginCatalog = catalog): HubConfig => validateConfig(parseToml(toml, 'c.toml'), cat, { baseDir: BASE })

/** The problem list of an invalid config. */
function problems(toml: string, cat: PluginCatalog = catalog): readonly string[] {
  try {
    validate(toml, cat)
  } catch (err) {
    if (err instanceof ConfigError) return err.errors
    throw err
  }
  throw new assert.Assertion({ message: 'expected a ConfigError', generated: false, operator: 'throws', expects: 'ConfigError', actual: 'nothing' })
}

const npm = (extra = ''): string => `[[registries]]\nname = "npm"\ntype = "npm"\n${extra}\n`

// ---------------------------------------------------------------------------------------------
const Defaults = suite('config: validateConfig defaults')

Defaults('an empty file gets every kernel default', () => {
  const config = validate('')
  assert.equal(config, {
    server: {
      host: '127.0.0.1', port: 8080, cors_allowed_origins: [], trust_proxy: false, max_body_bytes: 268435456,
      upstream_timeout_secs: 30, data_dir: '/srv/hub/data', trust_proxy_hops: 1,
    },
    database: { type: 'sqlite', max_connections: 10, path: '/srv/hub/data/batlehub.db' },
    storage: { type: 'filesystem', backends: [], path: '/srv/hub/data/storage' },
    cache: { type: 'memory', key_prefix: 'batlehub:' },
    plugins: { dirs: [] },
    logging: { level: 'info', access_log: true },
    otel: {},
    ip_blocking: { enabled: false, violation_threshold: 10, violation_window_secs: 300, ban_duration_secs: 3600, trigger_on_status: [429, 401] },
    rate_limit: { enabled: false, window_secs: 60, enforcement: 'block', limits: { anonymous: 300, user: 1200, admin: 0 }, groups: [] },
    audit: { enabled: true, retention_days: 90 },
    auth: [],
    registries: [],
  })
})

Defaults('a registry gets kernel defaults, plugin defaults and the proxy RBAC', () => {
  const config = validate(npm())
  assert.equal(config.registries[0], {
    name: 'npm',
    type: 'npm',
    mode: 'proxy',
    upstreams: ['https://registry.npmjs.org'],
    storage: 'default',
    hybrid_merge_upstream: false,
    rbac: {
      anonymous: ['releases:read', 'source:read'], user: ['releases:read', 'source:read'], admin: ['*'],
      explore: { anonymous: true, user: true, admin: true },
    },
    cache: { metadata_ttl_secs: 300, serve_stale: true, warm_packages: [], warm_latest_n: 1, warm_concurrency: 2 },
    rules: [],
    versioning: { enforce_semver: false, allow_prerelease: true },
    signing: { required: false, allowed_types: [] },
    quota: { enforcement: 'block' },
    beta_channel: { enabled: false },
    sbom: { enabled: false, required: false },
    tls: { insecure_skip_verify: false },
    plugin: { foo_bar: false, scopes: { strip: true } },
  })
})

Defaults('RBAC defaults depend on the mode; a written rbac table is kept as written', () => {
  const config = validate([
    '[[registries]]\nname = "local"\ntype = "npm"\nmode = "local"',
    '[[registries]]\nname = "hybrid"\ntype = "npm"\nmode = "hybrid"',
    '[[registries]]\nname = "mine"\ntype = "npm"\n[registries.rbac]\nuser = ["source:read"]\n"oidc:team-*" = ["releases:write"]\n[registries.rbac.explore]\nuser = false',
  ].join('\n'))
  const local = { user: ['releases:read', 'source:read'], admin: ['*'], explore: { anonymous: true, user: true, admin: true } }
  assert.equal(config.registries[0]!.rbac, local)
  assert.equal(config.registries[1]!.rbac, local)
  assert.equal(config.registries[2]!.rbac, { user: ['source:read'], 'oidc:team-*': ['releases:write'], explore: { user: false, anonymous: true, admin: true } })
  assert.equal(rbacGrants(config.registries[2]!.rbac), { user: ['source:read'], 'oidc:team-*': ['releases:write'] })
})

Defaults('upstreams: the plugin default for proxy/hybrid, [] for local, as written otherwise', () => {
  const config = validate([
    '[[registries]]\nname = "a"\ntype = "npm"\nmode = "hybrid"',
    '[[registries]]\nname = "b"\ntype = "npm"\nmode = "local"',
    '[[registries]]\nname = "c"\ntype = "npm"\nupstreams = ["https://gitea.example.com/api/packages/org/npm", "http://mirror:8080/npm/"]',
  ].join('\n'))
  assert.equal(config.registries.map((r) => r.upstreams), [
    ['https://registry.npmjs.org'], [], ['https://gitea.example.com/api/packages/org/npm', 'http://mirror:8080/npm/'],
  ])
})

Defaults('registry tables: cache, rules, versioning, quota, upstream_auth, tls, search_url', () => {
  const config = validate(npm([
    'search_url = ""', 'max_artifact_bytes = 1048576',
    '[registries.cache]', 'idle_days = 14', 'warm_packages = ["lodash", "react@18.0.0"]',
    '[[registries.rules]]', 'kind = "release_age_gate"', 'min_age_secs = 3600', 'bypass_roles = ["admin"]',
    '[[registries.rules]]', 'kind = "deny_latest"',
    '[registries.versioning]', 'enforce_semver = true', 'version_pattern = "^\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"',
    '[registries.quota]', 'max_packages_per_user = 500', 'enforcement = "warn"',
    '[registries.upstream_auth]', 'type = "header"', 'name = "X-API-Key"', 'value = "k"',
    '[registries.tls]', 'ca_cert_path = "certs/corp-ca.pem"',
  ].join('\n')))
  const r = config.registries[0]!
  assert.is(r.search_url, '')
  assert.is(r.max_artifact_bytes, 1048576)
  assert.equal(r.cache, { idle_days: 14, warm_packages: ['lodash', 'react@18.0.0'], metadata_ttl_secs: 300, serve_stale: true, warm_latest_n: 1, warm_concurrency: 2 })
  assert.equal(r.rules, [
    { kind: 'release_age_gate', min_age_secs: 3600, bypass_roles: ['admin'] },
    { kind: 'deny_latest', bypass_roles: [] },
  ])
  assert.equal(r.versioning, { enforce_semver: true, version_pattern: '^\\d+\\.\\d+\\.\\d+$', allow_prerelease: true })
  assert.equal(r.quota, { max_packages_per_user: 500, enforcement: 'warn' })
  assert.equal(r.upstream_auth, { type: 'header', name: 'X-API-Key', value: 'k' })
  assert.equal(r.tls, { ca_cert_path: '/srv/hub/certs/corp-ca.pem', insecure_skip_verify: false })
})

Defaults('storage: s3 defaults, the endpoint alias, named backends', () => {
  const config = validate([
    '[storage]', 'type = "s3"', 'bucket = "batlehub-artifacts"', 'endpoint = "http://rustfs:9900"',
    '[[storage.backends]]', 'name = "github-s3"', 'type = "s3"', 'bucket = "batlehub-github"', 'region = "eu-west-1"',
    '[[storage.backends]]', 'name = "big-disk"', 'path = "/mnt/big"',
    '[[storage.backends]]', 'name = "scratch"',
    npm('storage = "github-s3"'),
  ].join('\n'))
  assert.equal(config.storage, {
    type: 's3', bucket: 'batlehub-artifacts', endpoint_url: 'http://rustfs:9900', region: 'us-east-1', force_path_style: false,
    backends: [
      { name: 'github-s3', type: 's3', bucket: 'batlehub-github', region: 'eu-west-1', force_path_style: false },
      { name: 'big-disk', path: '/mnt/big', type: 'filesystem' },
      { name: 'scratch', type: 'filesystem', path: '/srv/hub/data/storage-scratch' },
    ],
  })
  assert.is(config.registries[0]!.storage, 'github-s3')
})

Defaults('auth entries: type plus the provider keys, defaulted by its schema', () => {
  const config = validate('[[auth]]\ntype = "token"\n[[auth.tokens]]\nvalue = "t1"\nrole = "admin"\n[[auth.tokens]]\nvalue = "t2"\n[[auth]]\ntype = "token"\n')
  assert.equal(config.auth, [
    { type: 'token', plugin: { tokens: [{ value: 't1', role: 'admin' }, { value: 't2', role: 'user' }] } },
    { type: 'token', plugin: { tokens: [] } },
  ])
})

Defaults('other sections as written', () => {
  const config = validate([
    '[server]', 'public_url = "https://hub.example.com"', 'trust_proxy = true', 'cors_allowed_origins = ["https://ui.example.com"]',
    '[database]', 'type = "postgresql"', 'url = "postgresql://u:p@db:5432/hub"', 'max_connections = 50',
    '[cache]', 'type = "redis"', 'url = "redis://cache:6379/0"',
    '[logging]', 'level = "debug"',
    '[otel]', 'endpoint = "http://jaeger:4317"', 'service_name = "hub"',
    '[ip_blocking]', 'enabled = true', 'trigger_on_status = [429]',
  ].join('\n'))
  assert.is(config.server.public_url, 'https://hub.example.com')
  assert.is(config.server.trust_proxy, true)
  assert.equal(config.database, { type: 'postgresql', url: 'postgresql://u:p@db:5432/hub', max_connections: 50 })
  assert.equal(config.cache, { type: 'redis', url: 'redis://cache:6379/0', key_prefix: 'batlehub:' })
  assert.is(config.logging.level, 'debug')
  assert.equal(config.otel, { endpoint: 'http://jaeger:4317', service_name: 'hub' })
  assert.equal(config.ip_blocking.trigger_on_status, [429])
})

Defaults('the result is deeply frozen; the input is not touched', () => {
  const raw = parseToml(npm('[registries.cache]\nidle_days = 3'), 'c.toml')
  const config = validateConfig(raw, catalog, { baseDir: BASE })
  assert.ok(Object.isFrozen(config))
  assert.ok(Object.isFrozen(config.registries[0]!.cache))
  assert.ok(Object.isFrozen(config.registries[0]!.plugin))
  assert.ok(Object.isFrozen(config.server.cors_allowed_origins))
  assert.throws(() => { (config.server as { port: number }).port = 1 }, TypeError)
  assert.equal(raw, { registries: [{ name: 'npm', type: 'npm', cache: { idle_days: 3 } }] })
})
Defaults.run()

// ---------------------------------------------------------------------------------------------
const Errors = suite('config: validateConfig errors')

Errors('unknown keys at top level, nested, in a registry, in a plugin table', () => {
  assert.equal(problems([
    'colour = "blue"',
    '[server]', 'prot = 8080',
    '[logging]', 'level = "info"', 'format = "json"',
    '[[registries]]', 'name = "npm"', 'type = "npm"', 'upstream = "https://x"',
    '[registries.cache]', 'ttl = 1',
    '[registries.scopes]', 'strip = true', 'keep = 1',
  ].join('\n')), [
    'colour: unknown key',
    'server.prot: unknown key',
    'logging.format: unknown key',
    'registries[0].cache.ttl: unknown key',
    'registries[0].upstream: unknown key',
    'registries[0].scopes.keep: unknown key',
  ])
})

Errors('wrong types and ranges name the exact key path', () => {
  assert.equal(problems([
    '[server]', 'port = 70000', 'trust_proxy = "yes"',
    '[database]', 'max_connections = 0',
    '[ip_blocking]', 'trigger_on_status = [429, "401"]',
    npm(), '[[registries]]\nname = "b"\ntype = "npm"',
    '[[registries]]', 'name = "c"', 'type = "npm"', 'foo_bar = "true"',
    '[registries.cache]', 'idle_days = 1.5', 'serve_stale = 1', 'warm_packages = "lodash"',
  ].join('\n')), [
    'server.port: must be <= 65535',
    'server.trust_proxy: must be boolean',
    'database.max_connections: must be >= 1',
    'ip_blocking.trigger_on_status[1]: must be integer',
    'registries[2].cache.serve_stale: must be boolean',
    'registries[2].cache.idle_days: must be integer',
    'registries[2].cache.warm_packages: must be array',
    'registries[2].foo_bar: must be boolean',
  ])
})

Errors('enums list the allowed values', () => {
  assert.equal(problems('[database]\ntype = "mysql"\n[logging]\nlevel = "trace"\n' + npm('mode = "mirror"')), [
    'database.type: must be one of "sqlite", "postgresql"',
    'logging.level: must be one of "debug", "info", "warn", "error"',
    'registries[0].mode: must be one of "proxy", "local", "hybrid"',
  ])
})

Errors('registry names: required, URL-safe, unique', () => {
  assert.equal(problems([
    npm(), npm(),
    '[[registries]]\nname = "Internal NPM"\ntype = "npm"',
    '[[registries]]\nname = ".hidden"\ntype = "npm"',
    '[[registries]]\ntype = "npm"',
  ].join('\n')), [
    'registries[1].name: duplicate registry name "npm"',
    "registries[2].name: must be URL-safe: lowercase letters, digits, '.', '_' or '-' (1 to 64 characters, starting with a letter or digit)",
    "registries[3].name: must be URL-safe: lowercase letters, digits, '.', '_' or '-' (1 to 64 characters, starting with a letter or digit)",
    'registries[4].name: required',
  ])
})

Errors('an unknown registry type lists the known types', () => {
  assert.equal(problems('[[registries]]\nname = "npm"\ntype = "nmp"\nfoo_bar = true\n'), [
    'registries[0].type: unknown registry type "nmp" (known: cargo, npm, pypi)',
  ])
  assert.equal(problems('[[registries]]\nname = "npm"\n'), ['registries[0].type: required'])
  assert.equal(problems('[[registries]]\nname = "x"\ntype = "npm"\n', makeCatalog([], [])), [
    'registries[0].type: unknown registry type "npm" (known: none)',
  ])
})

Errors('the mode must match the plugin capabilities', () => {
  assert.equal(problems([
    '[[registries]]\nname = "a"\ntype = "cargo"\nmode = "local"\nupstreams = ["https://index.crates.io"]',
    '[[registries]]\nname = "b"\ntype = "pypi"',
    '[[registries]]\nname = "c"\ntype = "cargo"\nmode = "hybrid"\nupstreams = ["https://index.crates.io"]',
    '[[registries]]\nname = "d"\ntype = "pypi"\nmode = "hybrid"',
  ].join('\n')), [
    'registries[0].mode: registry type "cargo" cannot run in local mode (it has no publish capability)',
    'registries[1].mode: registry type "pypi" cannot run in proxy mode (it has no proxy capability)',
    'registries[2].mode: registry type "cargo" cannot run in hybrid mode (it has no publish capability)',
    'registries[3].mode: registry type "pypi" cannot run in hybrid mode (it has no proxy capability)',
  ])
})

Errors('upstreams: required without a plugin default, not empty, http(s) only', () => {
  assert.equal(problems([
    '[[registries]]\nname = "a"\ntype = "cargo"',
    '[[registries]]\nname = "b"\ntype = "npm"\nupstreams = []',
    '[[registries]]\nname = "c"\ntype = "npm"\nupstreams = ["ftp://x", "registry.npmjs.org"]',
  ].join('\n')), [
    'registries[0].upstreams: required in proxy mode (registry type "cargo" has no default upstreams)',
    'registries[1].upstreams: must not be empty in proxy mode',
    'registries[2].upstreams[0]: must be an http(s) URL',
    'registries[2].upstreams[1]: must be an http(s) URL',
  ])
})

Errors('storage: unknown backend names, reserved and duplicate backend names, s3 needs a bucket', () => {
  assert.equal(problems([
    '[storage]\ntype = "s3"',
    '[[storage.backends]]\nname = "github-s3"\ntype = "s3"\nbucket = "b"',
    '[[storage.backends]]\nname = "default"',
    '[[storage.backends]]\nname = "github-s3"',
    '[[storage.backends]]\nname = "Bad"\ntype = "gcs"',
    npm('storage = "s4"'),
  ].join('\n')), [
    'storage.bucket: required',
    // An unknown type selects no variant, so the other keys of that entry are not checked.
    'storage.backends[3].type: must be one of "filesystem", "s3"',
    'storage.backends[1].name: "default" is reserved: it names the [storage] backend itself',
    'storage.backends[2].name: duplicate storage backend name "github-s3"',
    'registries[0].storage: unknown storage backend "s4" (known: default, github-s3)',
  ])
})

Errors('storage: keys of the other backend type are unknown; endpoint and endpoint_url conflict', () => {
  assert.equal(problems('[storage]\npath = "/x"\nbucket = "b"\n'), ['storage.bucket: unknown key'])
  assert.equal(problems('[storage]\ntype = "s3"\nbucket = "b"\npath = "/x"\n'), ['storage.path: unknown key'])
  assert.equal(problems('[storage]\ntype = "s3"\nbucket = "b"\nendpoint = "http://a"\nendpoint_url = "http://b"\n'), [
    'storage.endpoint: conflicts with endpoint_url (endpoint is an alias of endpoint_url; keep one)',
  ])
  assert.equal(problems('[storage]\ntype = "s3"\nbucket = "b"\nendpoint = "rustfs:9900"\n'), ['storage.endpoint_url: must be an http(s) URL'])
})

Errors('database and cache: urls required by their type', () => {
  assert.equal(problems('[database]\ntype = "postgresql"\n'), ['database.url: required when database.type is "postgresql"'])
  assert.equal(problems('[database]\ntype = "postgresql"\nurl = "mysql://db"\n'), ['database.url: must be a postgres:// or postgresql:// URL'])
  assert.equal(problems('[cache]\ntype = "redis"\n'), ['cache.url: required when cache.type is "redis"'])
  assert.equal(problems('[cache]\ntype = "redis"\nurl = "http://cache"\n'), ['cache.url: must be a redis:// or rediss:// URL'])
  assert.equal(problems('[cache]\ntype = "postgres"\n'), ['cache.type: "postgres" needs database.type = "postgresql"'])
})

Errors('rules are tagged by kind', () => {
  assert.equal(problems(npm([
    '[[registries.rules]]', 'kind = "release_age_gate"', 'bypass_roles = ["root"]',
    '[[registries.rules]]', 'kind = "deny_latest"', 'min_age_secs = 5',
    '[[registries.rules]]', 'kind = "block_all"',
    '[[registries.rules]]', 'bypass_roles = []',
    '[[registries.rules]]', 'kind = "release_age_gate"', 'min_age_secs = -1',
  ].join('\n'))), [
    'registries[0].rules[0].min_age_secs: required',
    'registries[0].rules[0].bypass_roles[0]: must be one of "anonymous", "user", "admin"',
    'registries[0].rules[1].min_age_secs: unknown key',
    'registries[0].rules[2].kind: must be one of "release_age_gate", "deny_latest"',
    'registries[0].rules[3].kind: required',
    'registries[0].rules[4].min_age_secs: must be >= 0',
  ])
})

Errors('upstream_auth is tagged by type; rbac permissions are checked', () => {
  assert.equal(problems(npm([
    '[registries.upstream_auth]', 'type = "basic"', 'username = "deploy"', 'token = "x"',
    '[registries.rbac]', 'anonymous = ["read"]', '"oidc:team/*" = ["releases:write", "admin"]',
    '[registries.rbac.explore]', 'guest = true',
  ].join('\n'))), [
    'registries[0].rbac["oidc:team/*"][1]: must be one of "releases:read", "source:read", "releases:write", "*"',
    'registries[0].rbac.anonymous[0]: must be one of "releases:read", "source:read", "releases:write", "*"',
    'registries[0].rbac.explore.guest: unknown key',
    'registries[0].upstream_auth.password: required',
    'registries[0].upstream_auth.token: unknown key',
  ])
  assert.equal(problems(npm('[registries.upstream_auth]\ntype = "oauth"')), [
    'registries[0].upstream_auth.type: must be one of "bearer", "basic", "header"',
  ])
  assert.equal(problems(npm('[registries.upstream_auth]\ntype = "header"\nname = "X API"\nvalue = "v"')), [
    'registries[0].upstream_auth.name: must be an HTTP header name',
  ])
})

Errors('version_pattern must compile; search_url must be a URL or ""', () => {
  assert.equal(problems(npm('search_url = "solr"\n[registries.versioning]\nversion_pattern = "(1.0"')), [
    'registries[0].search_url: must be an http(s) URL, or "" to disable upstream search',
    'registries[0].versioning.version_pattern: must be a valid regular expression (Invalid regular expression: /(1.0/: Unterminated group)',
  ])
})

Errors('auth entries: unknown type, missing type, the provider schema with the entry path', () => {
  assert.equal(problems([
    '[[auth]]\ntype = "ldap"\nurl = "ldap://x"',
    '[[auth]]\nissuer_url = "https://sso"',
    '[[auth]]\ntype = "oidc"\nissuer_url = "https://sso"\nclient_id = 5\nsecret = "x"',
    '[[auth]]\ntype = "token"\n[[auth.tokens]]\nrole = "root"',
  ].join('\n')), [
    'auth[0].type: unknown auth provider type "ldap" (known: oidc, token)',
    'auth[1].type: required',
    'auth[2].client_secret: required',
    'auth[2].secret: unknown key',
    'auth[2].client_id: must be string',
    'auth[3].tokens[0].value: required',
    'auth[3].tokens[0].role: must be one of "anonymous", "user", "admin"',
  ])
})

Errors('tables where arrays of tables belong, and entries that are not tables', () => {
  assert.equal(problems('[registries]\nname = "npm"\n[auth]\ntype = "token"\n'), [
    'auth: must be an array of tables (write [[auth]])',
    'registries: must be an array of tables (write [[registries]])',
  ])
  assert.equal(problems('registries = [1]\nserver = 5\n'), ['server: must be object', 'registries[0]: must be a table'])
  assert.equal(problems('[storage]\nbackends = { name = "x" }\n'), ['storage.backends: must be an array of tables (write [[storage.backends]])'])
})

Errors('every problem is listed (more than TypeBox buffers by default), and the cap is restored', () => {
  const before = Settings.Get().maxErrors
  const lines = Array.from({ length: 20 }, (_, i) => `k${i} = 1`)
  const list = problems(lines.join('\n'))
  assert.is(list.length, 20)
  assert.is(list[19], 'k19: unknown key')
  assert.is(Settings.Get().maxErrors, before)
})

Errors('a plugin schema key path is prefixed with the registry path', () => {
  const cat = makeCatalog([{ ...npmEntry, configSchema: Type.Object({ mirror: Type.Object({ urls: Type.Array(Type.String({ minLength: 1 })) }, { additionalProperties: false }) }, { additionalProperties: false }) }])
  assert.equal(problems('[[registries]]\nname = "a"\ntype = "npm"\n[[registries]]\nname = "b"\ntype = "npm"\n[registries.mirror]\nurls = [""]\n', cat), [
    'registries[0].mirror: required',
    'registries[1].mirror.urls[0]: must not be empty',
  ])
})

Errors('the message lists one problem per line', () => {
  try {
    validateConfig({ server: { prot: 1 }, registries: [{ name: 'x', type: 'nope' }] }, catalog, { source: '/etc/hub.toml' })
    assert.unreachable()
  } catch (err) {
    assert.instance(err, ConfigError)
    assert.is((err as Error).message, [
      'invalid configuration (/etc/hub.toml), 2 problems:',
      '  server.prot: unknown key',
      '  registries[0].type: unknown registry type "nope" (known: cargo, npm, pypi)',
    ].join('\n'))
  }
})

Errors('formatPath quotes keys that are not bare', () => {
  assert.is(formatPath(['registries', 2, 'cache', 'idle_days']), 'registries[2].cache.idle_days')
  assert.is(formatPath(['registries', 0, 'rbac', 'oidc:team', 1]), 'registries[0].rbac["oidc:team"][1]')
  assert.is(formatPath([]), '(root)')
})
Errors.run()

// ---------------------------------------------------------------------------------------------
const Paths = suite('config: path resolution')

Paths('relative paths resolve against baseDir; absolute ones are kept', () => {
  const config = validate([
    '[server]', 'data_dir = "var"', 'static_dir = "ui/dist"',
    '[database]', 'path = "db/hub.sqlite"',
    '[storage]', 'path = "/var/cache/batlehub"',
    '[[storage.backends]]', 'name = "second"', 'path = "second"',
    '[plugins]', 'dirs = ["plugins", "/opt/hub-plugins"]',
    npm('[registries.tls]\nca_cert_path = "/etc/ssl/corp.pem"'),
  ].join('\n'))
  assert.is(config.server.data_dir, join(BASE, 'var'))
  assert.is(config.server.static_dir, join(BASE, 'ui/dist'))
  assert.is(config.database.path, join(BASE, 'db/hub.sqlite'))
  assert.equal(config.storage, { path: '/var/cache/batlehub', type: 'filesystem', backends: [{ name: 'second', path: join(BASE, 'second'), type: 'filesystem' }] })
  assert.equal(config.plugins.dirs, [join(BASE, 'plugins'), '/opt/hub-plugins'])
  assert.is(config.registries[0]!.tls.ca_cert_path, '/etc/ssl/corp.pem')
})

Paths('postgresql has no database.path; resolvePaths is idempotent and returns a frozen copy', () => {
  const config = validate('[database]\ntype = "postgresql"\nurl = "postgresql://db/x"\n')
  assert.is(config.database.path, undefined)
  const again = resolvePaths(config, '/elsewhere')
  assert.equal(again, config)
  assert.is.not(again, config)
  assert.ok(Object.isFrozen(again.server))
})
Paths.run()
