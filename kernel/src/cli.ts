#!/usr/bin/env node
/**
 * The `batlehub` command: serve (default), migrate, hash-token, check-config, dump-spec.
 */
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'

const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `batlehub needs Node.js 24 or newer (this is ${process.versions.node} at ${process.execPath}).\n` +
      'Run it through npm (`npm start`, `npm run batlehub -- <command>`) so the pinned Node 24 is used.\n',
  )
  process.exit(1)
}

const HELP = `Usage: batlehub [command] [--config PATH]

Commands:
  serve           start the hub (default)
  migrate         apply pending database migrations and exit
  hash-token [T]  print an Argon2id hash of token T (read from stdin when omitted)
  check-config    load and validate the configuration, print every error, exit 1 if any
  dump-spec       print the OpenAPI document of the /api/v1 API

Options:
  -c, --config PATH   configuration file (default: ./config.toml, else built-in defaults)
  -h, --help          this help
  -v, --version       the kernel version
`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const { KERNEL_VERSION } = await import('./version.ts')
  if (values.version) {
    process.stdout.write(`${KERNEL_VERSION}\n`)
    return 0
  }
  const [command = 'serve', ...rest] = positionals
  switch (command) {
    case 'serve':
      return serve(values.config)
    case 'migrate':
      return migrate(values.config)
    case 'hash-token':
      return hashToken(rest[0])
    case 'check-config':
      return checkConfig(values.config)
    case 'dump-spec':
      return dumpSpec()
    default:
      process.stderr.write(`unknown command: ${command}\n\n${HELP}`)
      return 2
  }
}

function reportStartupError(err: unknown): number {
  const e = err as { errors?: string[]; message?: string }
  if (Array.isArray(e?.errors)) {
    process.stderr.write(`configuration is invalid:\n${e.errors.map((l) => `  ${l}`).join('\n')}\n`)
  } else {
    process.stderr.write(`batlehub: ${e?.message ?? String(err)}\n`)
  }
  return 1
}

async function serve(configPath?: string): Promise<number> {
  const { Kernel } = await import('./kernel.ts')
  let kernel: import('./kernel.ts').Kernel
  try {
    kernel = await Kernel.create({ configPath })
  } catch (err) {
    return reportStartupError(err)
  }
  let url: string
  try {
    url = await kernel.listen()
  } catch (err) {
    await kernel.close()
    return reportStartupError(err)
  }
  kernel.log.info('BatleHub listening', { url, config: kernel.configSource, registries: [...kernel.hosts.keys()] })
  process.stderr.write(`BatleHub listening on ${url} (config: ${kernel.configSource}; registries: ${[...kernel.hosts.keys()].join(', ') || 'none'})\n`)
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      kernel.log.info('shutting down', { signal })
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  await kernel.close()
  return 0
}

async function migrate(configPath?: string): Promise<number> {
  const { loadConfigForCli } = await import('./cli-support.ts')
  try {
    const { config } = await loadConfigForCli(configPath)
    const { openDatabase } = await import('./db/orm.ts')
    const db = await openDatabase(
      { type: config.database.type, url: config.database.url, path: config.database.path, maxConnections: config.database.max_connections },
      { migrate: false },
    )
    try {
      const applied = await db.migrate()
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n')
    } finally {
      await db.close()
    }
    return 0
  } catch (err) {
    return reportStartupError(err)
  }
}

async function hashToken(token?: string): Promise<number> {
  const { hashSecret } = await import('@batlehub/sdk')
  let secret = token
  if (secret === undefined) {
    if (process.stdin.isTTY) {
      process.stderr.write('usage: batlehub hash-token <token>   (or pipe the token on stdin)\n')
      return 2
    }
    secret = readFileSync(0, 'utf8').replace(/\r?\n$/, '')
  }
  if (!secret) {
    process.stderr.write('refusing to hash an empty token\n')
    return 2
  }
  process.stdout.write(`${await hashSecret(secret)}\n`)
  return 0
}

async function checkConfig(configPath?: string): Promise<number> {
  const { loadConfigForCli } = await import('./cli-support.ts')
  try {
    const { config, source, plugins } = await loadConfigForCli(configPath)
    for (const e of plugins.errors) process.stderr.write(`warning: ${e.message}\n`)
    process.stdout.write(
      `configuration OK (${source}): ${config.registries.length} registr${config.registries.length === 1 ? 'y' : 'ies'}` +
        `${config.registries.length ? ` (${config.registries.map((r) => `${r.name}:${r.type}/${r.mode}`).join(', ')})` : ''}\n`,
    )
    return 0
  } catch (err) {
    return reportStartupError(err)
  }
}

async function dumpSpec(): Promise<number> {
  const { buildSpecOnly } = await import('./cli-support.ts')
  process.stdout.write(`${JSON.stringify(buildSpecOnly(), null, 2)}\n`)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`batlehub: ${(err as Error)?.stack ?? err}\n`)
    process.exitCode = 1
  },
)
