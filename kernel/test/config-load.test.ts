import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ConfigError, DEFAULTS_SOURCE, ENV_OVERRIDES, applyEnvOverrides, loadConfig, loadRawConfig, parseToml,
  readConfigText, substituteEnv, validateLoadedConfig,
} from '../src/config/load.ts'
import type { HubConfig } from '../src/config/schema.ts'
import { catalog } from './fixtures/config/catalog.ts'

/** The filesystem path of the default backend. */
const fsPath = (config: HubConfig): string | undefined => (config.storage.type === 'filesystem' ? config.storage.path : undefined)

/** Runs fn, expects a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new assert.Assertion({ message: 'expected a ConfigError', generated: false, operator: 'throws', expects: 'ConfigError', actual: 'nothing' })
}

// ---------------------------------------------------------------------------------------------
const Read = suite<{ dir: string }>('config: readConfigText')
Read.before.each((t) => { t.dir = mkdtempSync(join(tmpdir(), 'bh-config-read-')) })
Read.after.each((t) => { rmSync(t.dir, { recursive: true, force: true }) })

Read('reads the file and drops a UTF-8 BOM', ({ dir }) => {
  const file = join(dir, 'c.toml')
  writeFileSync(file, '\uFEFF[server]\nport = 1\n')
  assert.is(readConfigText(file), '[server]\nport = 1\n')
})

Read('a missing file is a ConfigError naming the path', ({ dir }) => {
  const file = join(dir, 'nope.toml')
  const err = configError(() => readConfigText(file))
  assert.equal(err.errors, [`config file not found: ${file}`])
  assert.is(err.source, file)
  assert.is(err.message, `invalid configuration (${file}):\n  config file not found: ${file}`)
  assert.is(err.code, 'BH_CONFIG')
  assert.is(err.name, 'ConfigError')
})

Read('a directory is a ConfigError naming the path', ({ dir }) => {
  assert.equal(configError(() => readConfigText(dir)).errors, [`config file is a directory: ${dir}`])
})
Read.run()

// ---------------------------------------------------------------------------------------------
const Subst = suite('config: substituteEnv')

Subst('replaces ${VAR} inside strings, outside strings, and leaves comments alone', () => {
  const text = [
    '# export ${NOT_SET} first',
    'token = "${TOKEN}"',
    "lit = 'x-${PLAIN}'",
    'port = ${PORT}',
    'ml = """a${PLAIN}b"""',
  ].join('\n')
  const out = substituteEnv(text, { TOKEN: 'abc', PLAIN: 'p', PORT: '9090' })
  assert.is(out, [
    '# export ${NOT_SET} first',
    'token = "abc"',
    "lit = 'x-p'",
    'port = 9090',
    'ml = """apb"""',
  ].join('\n'))
  assert.equal(parseToml(out, 'c.toml'), { token: 'abc', lit: 'x-p', port: 9090, ml: 'apb' })
})

Subst('values are escaped inside "..." strings so they arrive byte for byte', () => {
  const secret = 'pa"ss\\word\nline2\ttab\u007f'
  const out = substituteEnv('a = "${S}"\nb = """${S}"""\n', { S: secret })
  assert.equal(parseToml(out, 'c.toml'), { a: secret, b: secret })
})

Subst('$${ is an escape for a literal ${ in every kind of string', () => {
  const out = substituteEnv('a = "$${MY_VAR}"\nb = \'$${MY_VAR}\'\nc = "cost: $5 and $$"\n', {})
  assert.is(out, 'a = "${MY_VAR}"\nb = \'${MY_VAR}\'\nc = "cost: $5 and $$"\n')
  assert.equal(parseToml(out, 'c.toml'), { a: '${MY_VAR}', b: '${MY_VAR}', c: 'cost: $5 and $$' })
})

Subst('an empty variable is substituted as an empty string (it is set)', () => {
  assert.is(substituteEnv('a = "${E}"', { E: '' }), 'a = ""')
})

Subst('escaped quotes inside a string do not end it', () => {
  assert.is(substituteEnv('a = "q\\"${V}\\"" # ${IGNORED}', { V: 'v' }), 'a = "q\\"v\\"" # ${IGNORED}')
})

Subst('every missing variable is reported with its line, and there is no fallback', () => {
  const err = configError(() => substituteEnv('a = 1\nb = "${OIDC_CLIENT_SECRET}"\n\nc = "${REGISTRY_TOKEN}${OIDC_CLIENT_SECRET}"\n', { OTHER: 'x' }))
  assert.equal(err.errors, [
    'line 2: environment variable OIDC_CLIENT_SECRET is not set',
    'line 4: environment variable REGISTRY_TOKEN is not set',
    'line 4: environment variable OIDC_CLIENT_SECRET is not set',
  ])
})

Subst('with a source, errors read <source>:<line>', () => {
  const err = configError(() => substituteEnv('x = """\nmulti\n${NOPE}"""', {}, '/etc/batlehub/config.toml'))
  assert.equal(err.errors, ['/etc/batlehub/config.toml:3: environment variable NOPE is not set'])
  assert.is(err.source, '/etc/batlehub/config.toml')
})

Subst('a malformed placeholder is an error', () => {
  const err = configError(() => substituteEnv('a = "${1ABC}"\nb = "${}"', {}))
  assert.equal(err.errors, [
    'line 1: malformed placeholder "${1ABC}" (write ${NAME} with NAME made of letters, digits and \'_\', or $${ for a literal "${")',
    'line 2: malformed placeholder "${}" (write ${NAME} with NAME made of letters, digits and \'_\', or $${ for a literal "${")',
  ])
})

Subst("a value that cannot be written in a '...' string is an error naming the variable", () => {
  const err = configError(() => substituteEnv("a = '${Q}'\nb = '''${T}'''", { Q: "it's", T: "x'''y" }))
  assert.equal(err.errors, [
    'line 1: the value of Q cannot be written inside a \'...\' string (it contains a single quote or a control character); use a "..." string',
    'line 2: the value of T cannot be written inside a \'\'\'...\'\'\' string (it contains \'\'\' or a control character); use a """...""" string',
  ])
})

Subst('a lone $ and $NAME are left alone', () => {
  assert.is(substituteEnv('a = "$HOME $ {x}" # $', {}), 'a = "$HOME $ {x}" # $')
})
Subst.run()

// ---------------------------------------------------------------------------------------------
const Parse = suite('config: parseToml')

Parse('returns plain objects (not null-prototype tables)', () => {
  const raw = parseToml('[server]\nport = 1\n[[registries]]\nname = "npm"\n[registries.rbac]\nanonymous = ["releases:read"]\n', 'c.toml')
  assert.is(Object.getPrototypeOf(raw), Object.prototype)
  assert.is(Object.getPrototypeOf(raw['server']), Object.prototype)
  assert.is(Object.getPrototypeOf((raw['registries'] as Record<string, unknown>[])[0]!['rbac']), Object.prototype)
  assert.equal(raw, { server: { port: 1 }, registries: [{ name: 'npm', rbac: { anonymous: ['releases:read'] } }] })
})

Parse('syntax errors name the file, line and column', () => {
  const err = configError(() => parseToml('[server]\nport = [1\nhost = "x"\n', '/srv/hub/config.toml'))
  assert.equal(err.errors, ['/srv/hub/config.toml:3:1: invalid TOML: expected comma or end of structure'])
  assert.is(err.source, '/srv/hub/config.toml')
  assert.equal(configError(() => parseToml('a = "open', 'c.toml')).errors, ['c.toml:1:5: invalid TOML: unfinished string'])
  assert.equal(configError(() => parseToml('[a]\nb = 1\n[a]\n', 'c.toml')).errors, ['c.toml:3:2: invalid TOML: trying to redefine an already defined table or value'])
})

Parse('__proto__ keys are refused', () => {
  assert.equal(configError(() => parseToml('[x]\n__proto__ = 1\n', 'c.toml')).errors, [
    'c.toml:2:1: invalid TOML: document contains an unsafe property (keys named __proto__ or constructor are not allowed)',
  ])
})
Parse.run()

// ---------------------------------------------------------------------------------------------
const Overrides = suite('config: applyEnvOverrides')

Overrides('covers exactly the seed table', () => {
  assert.equal(ENV_OVERRIDES.map((o) => `${o.variable}=${o.path.join('.')}`), [
    'PROXY_CACHE__SERVER__PORT=server.port',
    'PROXY_CACHE__SERVER__HOST=server.host',
    'PROXY_CACHE__SERVER__STATIC_DIR=server.static_dir',
    'PROXY_CACHE__DATABASE__URL=database.url',
    'PROXY_CACHE__DATABASE__MAX_CONNECTIONS=database.max_connections',
    'PROXY_CACHE__STORAGE__PATH=storage.path',
    'PROXY_CACHE__STORAGE__BUCKET=storage.bucket',
    'PROXY_CACHE__STORAGE__REGION=storage.region',
    'PROXY_CACHE__STORAGE__ENDPOINT_URL=storage.endpoint_url',
    'PROXY_CACHE__OTEL__ENDPOINT=otel.endpoint',
    'PROXY_CACHE__OTEL__SERVICE_NAME=otel.service_name',
  ])
})

Overrides('each variable sets its key (integers parsed), over what the file says', () => {
  const file = { server: { port: 1, host: 'h' }, database: { type: 'postgresql', url: 'postgresql://old/db' }, storage: { type: 's3', bucket: 'old' } }
  const { raw, warnings } = applyEnvOverrides(file, {
    PROXY_CACHE__SERVER__PORT: '9000',
    PROXY_CACHE__SERVER__HOST: '0.0.0.0',
    PROXY_CACHE__SERVER__STATIC_DIR: '/app/ui',
    PROXY_CACHE__DATABASE__URL: 'postgresql://new/db',
    PROXY_CACHE__DATABASE__MAX_CONNECTIONS: '25',
    PROXY_CACHE__STORAGE__PATH: '/var/cache/hub',
    PROXY_CACHE__STORAGE__BUCKET: 'artifacts',
    PROXY_CACHE__STORAGE__REGION: 'eu-west-1',
    PROXY_CACHE__STORAGE__ENDPOINT_URL: 'http://rustfs:9900',
    PROXY_CACHE__OTEL__ENDPOINT: 'http://jaeger:4317',
    PROXY_CACHE__OTEL__SERVICE_NAME: 'hub',
    HOME: '/root',
  })
  assert.equal(raw, {
    server: { port: 9000, host: '0.0.0.0', static_dir: '/app/ui' },
    database: { type: 'postgresql', url: 'postgresql://new/db', max_connections: 25 },
    storage: { type: 's3', bucket: 'artifacts', path: '/var/cache/hub', region: 'eu-west-1', endpoint_url: 'http://rustfs:9900' },
    otel: { endpoint: 'http://jaeger:4317', service_name: 'hub' },
  })
  assert.equal(warnings, [])
  assert.equal(file.server, { port: 1, host: 'h' }, 'the input is not modified')
})

Overrides('a non-integer value is an error naming the variable', () => {
  const err = configError(() => applyEnvOverrides({}, { PROXY_CACHE__SERVER__PORT: '80a', PROXY_CACHE__DATABASE__MAX_CONNECTIONS: '1.5' }))
  assert.equal(err.errors, [
    'PROXY_CACHE__SERVER__PORT: must be an integer (got "80a")',
    'PROXY_CACHE__DATABASE__MAX_CONNECTIONS: must be an integer (got "1.5")',
  ])
  assert.is(err.message, 'invalid configuration, 2 problems:\n  PROXY_CACHE__SERVER__PORT: must be an integer (got "80a")\n  PROXY_CACHE__DATABASE__MAX_CONNECTIONS: must be an integer (got "1.5")')
})

Overrides('unknown PROXY_CACHE__ variables and empty values are ignored with a warning', () => {
  const { raw, warnings } = applyEnvOverrides({ server: { port: 1 } }, {
    PROXY_CACHE__SERVER__PROT: '1', PROXY_CACHE__AUTH__TOKEN: 'x', PROXY_CACHE__SERVER__HOST: '', PROXY_CACHE_SERVER__PORT: '2',
  })
  assert.equal(raw, { server: { port: 1 } })
  assert.equal(warnings, [
    'PROXY_CACHE__AUTH__TOKEN is not a supported override and was ignored',
    'PROXY_CACHE__SERVER__PROT is not a supported override and was ignored',
    'PROXY_CACHE__SERVER__HOST is empty and was ignored',
  ])
})

Overrides('a PostgreSQL DATABASE__URL selects postgresql when the file sets no type', () => {
  assert.equal(applyEnvOverrides({}, { PROXY_CACHE__DATABASE__URL: 'postgres://u:p@db:5432/hub' }).raw, {
    database: { url: 'postgres://u:p@db:5432/hub', type: 'postgresql' },
  })
  assert.equal(applyEnvOverrides({ database: { type: 'sqlite' } }, { PROXY_CACHE__DATABASE__URL: 'postgresql://db/hub' }), {
    raw: { database: { type: 'sqlite', url: 'postgresql://db/hub' } },
    warnings: ['PROXY_CACHE__DATABASE__URL is a PostgreSQL URL but database.type is "sqlite"; the URL is not used'],
  })
  assert.equal(applyEnvOverrides({}, { PROXY_CACHE__DATABASE__URL: 'file:hub.db' }).raw, { database: { url: 'file:hub.db' } })
})

Overrides('S3 overrides select s3 when the file sets no storage type; ENDPOINT_URL replaces the endpoint alias', () => {
  assert.equal(applyEnvOverrides({}, { PROXY_CACHE__STORAGE__BUCKET: 'b' }).raw, { storage: { bucket: 'b', type: 's3' } })
  assert.equal(applyEnvOverrides({ storage: { type: 'filesystem' } }, { PROXY_CACHE__STORAGE__BUCKET: 'b' }).raw, { storage: { type: 'filesystem', bucket: 'b' } })
  assert.equal(applyEnvOverrides({ storage: { type: 's3', bucket: 'b', endpoint: 'http://old:1' } }, { PROXY_CACHE__STORAGE__ENDPOINT_URL: 'http://new:2' }).raw, {
    storage: { type: 's3', bucket: 'b', endpoint_url: 'http://new:2' },
  })
  assert.equal(applyEnvOverrides({}, { PROXY_CACHE__STORAGE__PATH: '/x' }).raw, { storage: { path: '/x' } })
})
Overrides.run()

// ---------------------------------------------------------------------------------------------
const Load = suite<{ dir: string }>('config: loadRawConfig / loadConfig')
Load.before.each((t) => { t.dir = mkdtempSync(join(tmpdir(), 'bh-config-load-')) })
Load.after.each((t) => { rmSync(t.dir, { recursive: true, force: true }) })

const MINIMAL = '[server]\nport = 9001\n\n[[registries]]\nname = "npm"\ntype = "npm"\n'

Load('finds config.toml in cwd; relative paths resolve against its directory', ({ dir }) => {
  writeFileSync(join(dir, 'config.toml'), MINIMAL + '\n[storage]\npath = "cache"\n')
  const { config, source, warnings } = loadConfig({ cwd: dir, env: {}, catalog })
  assert.is(source, join(dir, 'config.toml'))
  assert.equal(warnings, [])
  assert.is(config.server.port, 9001)
  assert.is(fsPath(config), join(dir, 'cache'))
  assert.is(config.database.path, join(dir, 'data', 'batlehub.db'))
  assert.equal(config.registries.map((r) => r.name), ['npm'])
})

Load('--config (relative to cwd) wins over config.toml in cwd; paths resolve against its directory', ({ dir }) => {
  writeFileSync(join(dir, 'config.toml'), '[server]\nport = 1\n')
  mkdirSync(join(dir, 'etc'))
  writeFileSync(join(dir, 'etc', 'hub.toml'), '[server]\nport = 2\ndata_dir = "../var"\n')
  const { config, source } = loadConfig({ path: 'etc/hub.toml', cwd: dir, env: {}, catalog })
  assert.is(source, join(dir, 'etc', 'hub.toml'))
  assert.is(config.server.port, 2)
  assert.is(config.server.data_dir, join(dir, 'var'))
  assert.is(fsPath(config), join(dir, 'var', 'storage'))
})

Load('an explicit --config that does not exist is an error, even if config.toml exists', ({ dir }) => {
  writeFileSync(join(dir, 'config.toml'), MINIMAL)
  const err = configError(() => loadConfig({ path: 'missing.toml', cwd: dir, env: {}, catalog }))
  assert.equal(err.errors, [`config file not found: ${join(dir, 'missing.toml')}`])
})

Load('without a file: the defaults, with overrides on top', ({ dir }) => {
  const { config, source, warnings } = loadConfig({ cwd: dir, env: { PROXY_CACHE__SERVER__PORT: '7000', PROXY_CACHE__X: '1' }, catalog })
  assert.is(source, DEFAULTS_SOURCE)
  assert.is(source, '<defaults>')
  assert.equal(warnings, ['PROXY_CACHE__X is not a supported override and was ignored'])
  assert.is(config.server.port, 7000)
  assert.is(config.server.host, '127.0.0.1')
  assert.is(config.server.data_dir, join(dir, 'data'))
  assert.is(config.database.type, 'sqlite')
  assert.is(fsPath(config), join(dir, 'data', 'storage'))
  assert.equal(config.auth, [{ type: 'token', plugin: { tokens: [] } }])
  assert.equal(config.registries.map((r) => [r.name, r.type, r.mode, r.upstreams]), [['npm', 'npm', 'proxy', ['https://registry.npmjs.org']]])
})

Load('defaults + a PostgreSQL URL from the environment', ({ dir }) => {
  const { config } = loadConfig({ cwd: dir, env: { PROXY_CACHE__DATABASE__URL: 'postgresql://hub@db/hub' }, catalog })
  assert.is(config.database.type, 'postgresql')
  assert.is(config.database.url, 'postgresql://hub@db/hub')
  assert.is(config.database.path, undefined)
})

Load('runs read → substitute → parse → overrides → validate in that order', ({ dir }) => {
  // The override wins over the substituted value; the substituted value feeds validation.
  writeFileSync(join(dir, 'config.toml'), '[server]\nport = ${PORT}\nhost = "${HOST}"\n[[registries]]\nname = "${NAME}"\ntype = "npm"\n')
  const env = { PORT: '1234', HOST: '10.0.0.1', NAME: 'public-npm', PROXY_CACHE__SERVER__HOST: '0.0.0.0' }
  const { config } = loadConfig({ cwd: dir, env, catalog })
  assert.is(config.server.port, 1234)
  assert.is(config.server.host, '0.0.0.0')
  assert.is(config.registries[0]!.name, 'public-npm')
})

Load('errors of every step carry the file as source', ({ dir }) => {
  const file = join(dir, 'config.toml')
  writeFileSync(file, 'token = "${MISSING}"\n')
  assert.equal(configError(() => loadConfig({ cwd: dir, env: {}, catalog })).errors, [`${file}:1: environment variable MISSING is not set`])
  writeFileSync(file, '[server]\nport = 1\n')
  const over = configError(() => loadConfig({ cwd: dir, env: { PROXY_CACHE__SERVER__PORT: 'x' }, catalog }))
  assert.is(over.source, file)
  writeFileSync(file, '[server]\nprot = 1\n')
  const invalid = configError(() => loadConfig({ cwd: dir, env: {}, catalog }))
  assert.equal(invalid.errors, ['server.prot: unknown key'])
  assert.is(invalid.message, `invalid configuration (${file}):\n  server.prot: unknown key`)
})

Load('loadRawConfig exposes [plugins].dirs before validation; validateLoadedConfig finishes', ({ dir }) => {
  writeFileSync(join(dir, 'config.toml'), '[plugins]\ndirs = ["plugins"]\n[[registries]]\nname = "x"\ntype = "npm"\nfoo_bar = true\n')
  const pre = loadRawConfig({ cwd: dir, env: {} })
  assert.equal(pre.raw['plugins'], { dirs: ['plugins'] })
  assert.is(pre.baseDir, dir)
  assert.is(pre.source, join(dir, 'config.toml'))
  const { config } = validateLoadedConfig(pre, catalog)
  assert.equal(config.plugins.dirs, [join(dir, 'plugins')])
  assert.equal(config.registries[0]!.plugin, { foo_bar: true, scopes: { strip: true } })
})

Load('loadRawConfig without a file: empty raw plus overrides, baseDir = cwd', ({ dir }) => {
  const pre = loadRawConfig({ cwd: dir, env: { PROXY_CACHE__OTEL__SERVICE_NAME: 'hub' } })
  assert.equal(pre, { raw: { otel: { service_name: 'hub' } }, source: '<defaults>', baseDir: dir, warnings: [] })
})
Load.run()
