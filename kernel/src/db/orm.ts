/**
 * Opens the database (embedded SQLite on node:sqlite, or PostgreSQL) and applies migrations.
 *
 * Migrations are dialect-specific SQL (TOOLCHAIN §3), kept in `migrations/sqlite` and
 * `migrations/postgresql`, generated from the same entities by `scripts/gen-migrations.mjs`.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MikroORM, SqliteDriver, NodeSqliteDialect, type EntityManager, type Options } from '@mikro-orm/sql'
import { Migrator } from '@mikro-orm/migrations'
import { ENTITIES } from './entities.ts'

export type Dialect = 'sqlite' | 'postgresql'

export interface DatabaseSettings {
  type: Dialect
  /** PostgreSQL connection URL. */
  url?: string
  /** SQLite file (`:memory:` allowed). */
  path?: string
  maxConnections?: number
  /** PostgreSQL schema (tests use a fresh one each). */
  schema?: string
}

/** The repository's `migrations/` folder; BATLEHUB_MIGRATIONS_DIR overrides it. */
export function migrationsRoot(): string {
  if (process.env.BATLEHUB_MIGRATIONS_DIR) return resolve(process.env.BATLEHUB_MIGRATIONS_DIR)
  // kernel/{src|dist/src}/db → repository root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'migrations', 'sqlite'))) return join(dir, 'migrations')
    dir = dirname(dir)
  }
  throw new Error('cannot find the migrations/ folder; set BATLEHUB_MIGRATIONS_DIR')
}

export function ormOptions(settings: DatabaseSettings, migrationsPath = join(migrationsRoot(), settings.type)): Options {
  const common = {
    entities: ENTITIES,
    extensions: [Migrator],
    debug: false,
    allowGlobalContext: false,
    migrations: {
      path: migrationsPath,
      glob: '!(*.d).js',
      emit: 'js' as const,
      snapshot: false,
      transactional: true,
      silent: true,
      ...(settings.schema ? { schema: settings.schema } : {}),
    },
  }
  if (settings.type === 'sqlite') {
    const file = settings.path ?? ':memory:'
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true })
    return { ...common, driver: SqliteDriver, dbName: file, driverOptions: new NodeSqliteDialect(file) } as Options
  }
  if (!settings.url) throw new Error('database.url is required for PostgreSQL')
  return {
    ...common,
    clientUrl: settings.url,
    pool: { min: 0, max: settings.maxConnections ?? 10 },
    ...(settings.schema ? { schema: settings.schema } : {}),
  } as Options
}

/**
 * An open database. `em()` returns a fresh fork for one unit of work.
 */
export class Database {
  constructor(readonly orm: MikroORM, readonly dialect: Dialect, readonly schema?: string) {}

  em(): EntityManager {
    return this.orm.em.fork() as EntityManager
  }

  /** Applies pending migrations; returns the names applied. */
  async migrate(): Promise<string[]> {
    const applied = await this.orm.migrator.up()
    return applied.map((m) => m.name)
  }

  async pendingMigrations(): Promise<string[]> {
    return (await this.orm.migrator.getPending()).map((m) => m.name)
  }

  /** Throws when the database does not answer. */
  async ping(): Promise<void> {
    await this.em().getConnection().execute('select 1')
  }

  /** Raw SQL with positional `?` parameters, on a fresh connection from the pool. */
  async execute<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.em().getConnection().execute(sql, params as any[], 'all')) as T[]
  }

  async close(): Promise<void> {
    await this.orm.close(true)
  }
}

/** Opens the database and, unless told otherwise, applies pending migrations. */
export async function openDatabase(settings: DatabaseSettings, options: { migrate?: boolean } = {}): Promise<Database> {
  let orm: MikroORM
  if (settings.type === 'postgresql') {
    // Loaded lazily so that SQLite-only runs never load pg.
    const { PostgreSqlDriver } = await import('@mikro-orm/postgresql')
    if (settings.schema) {
      const boot = await MikroORM.init({ ...ormOptions({ ...settings, schema: undefined }), driver: PostgreSqlDriver } as Options)
      await boot.em.getConnection().execute(`create schema if not exists "${settings.schema.replace(/"/g, '')}"`)
      await boot.close(true)
    }
    orm = await MikroORM.init({ ...ormOptions(settings), driver: PostgreSqlDriver } as Options)
  } else {
    orm = await MikroORM.init(ormOptions(settings))
    if ((settings.path ?? ':memory:') !== ':memory:') {
      // A server's SQLite: write-ahead logging lets readers run beside the writer, and NORMAL
      // synchronisation fsyncs at checkpoints instead of at every commit (still crash-safe in WAL
      // mode; a power loss can only lose the last transactions). busy_timeout waits out a writer
      // instead of failing with SQLITE_BUSY.
      const conn = orm.em.getConnection()
      await conn.execute('pragma journal_mode = wal')
      await conn.execute('pragma synchronous = normal')
      await conn.execute('pragma busy_timeout = 5000')
    }
  }
  const db = new Database(orm, settings.type, settings.schema)
  if (options.migrate !== false) await db.migrate()
  return db
}
