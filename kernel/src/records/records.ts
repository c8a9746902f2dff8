/**
 * RecordService: small JSON records per registry instance, in the plugin_records table.
 */
import { InputError, type RecordService } from '@batlehub/sdk'
import { PluginRecord } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'

const NAME_RE = /^[a-z0-9][a-z0-9._:-]{0,127}$/

function checkCollection(collection: string): void {
  if (!NAME_RE.test(collection)) throw new InputError(`invalid record collection name: ${JSON.stringify(collection)}`)
}
function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > 1024) throw new InputError('record keys are 1 to 1024 bytes')
}

export class Records implements RecordService {
  constructor(private readonly db: Database, private readonly registry: string) {}

  async get<T = unknown>(collection: string, key: string): Promise<T | null> {
    checkCollection(collection)
    checkKey(key)
    const row = await this.db.em().findOne(PluginRecord, { registry: this.registry, collection, key })
    return row ? (row.value as T) : null
  }

  async put<T = unknown>(collection: string, key: string, value: T): Promise<void> {
    checkCollection(collection)
    checkKey(key)
    if (value === undefined) throw new InputError('record value must not be undefined')
    await this.db.em().upsert(
      PluginRecord,
      { registry: this.registry, collection, key, value: value as unknown, updatedAt: new Date() },
      { onConflictFields: ['registry', 'collection', 'key'], onConflictAction: 'merge', onConflictMergeFields: ['value', 'updatedAt'] },
    )
  }

  async delete(collection: string, key: string): Promise<boolean> {
    checkCollection(collection)
    checkKey(key)
    const n = await this.db.em().nativeDelete(PluginRecord, { registry: this.registry, collection, key })
    return n > 0
  }

  async list<T = unknown>(collection: string, options: { prefix?: string; limit?: number; after?: string } = {}): Promise<Array<{ key: string; value: T }>> {
    checkCollection(collection)
    const where: Record<string, unknown> = { registry: this.registry, collection }
    const keyCond: Record<string, unknown> = {}
    // LIKE escaping differs between dialects; '%' and '_' in the prefix may over-match, so the rows
    // are filtered again below.
    if (options.prefix) keyCond.$like = options.prefix + '%'
    if (options.after !== undefined) keyCond.$gt = options.after
    if (Object.keys(keyCond).length) where.key = keyCond
    const rows = await this.db.em().find(PluginRecord, where as any, { orderBy: { key: 'asc' }, limit: Math.min(options.limit ?? 1000, 10_000) })
    return rows.filter((r) => !options.prefix || r.key.startsWith(options.prefix)).map((r) => ({ key: r.key, value: r.value as T }))
  }
}
