/**
 * The local package stores of a kernel: one {@link LocalStore} per registry instance (the
 * `ctx.packages` of its context), sharing one batched download counter.
 */
import type { Clock, CoreEvents, EventBus, LoggerService } from '@batlehub/sdk'
import type { RegistryConfig } from '../config/schema.ts'
import type { Database } from '../db/orm.ts'
import type { StorageManager } from '../storage/manager.ts'
import { DownloadCounter } from './downloads.ts'
import { LocalStore, type LocalStoreOptions } from './store.ts'

export { LocalStore, VISIBILITIES, type Visibility, type ClaimInfo } from './store.ts'
export { DownloadCounter } from './downloads.ts'
export { localFileKey, keySegment, checkFilename } from './names.ts'
export { isPrerelease } from './versioning.ts'

export interface LocalStoresOptions {
  db: Database
  storage: StorageManager
  events: EventBus<CoreEvents>
  clock: Clock
  log: LoggerService
  /** Flush period of download counts in ms; default 5 s. */
  downloadFlushMs?: number
}

export class LocalStores {
  private readonly stores = new Map<string, LocalStore>()
  readonly downloads: DownloadCounter

  constructor(private readonly o: LocalStoresOptions) {
    this.downloads = new DownloadCounter({ db: o.db, log: o.log, now: () => o.clock.now(), intervalMs: o.downloadFlushMs })
  }

  /**
   * The store of one registry instance. `normalizer` returns the plugin's `normalizeName` hook at
   * call time: the hook only exists after the plugin's setup returned.
   */
  create(r: RegistryConfig, normalizer: () => ((name: string) => string) | undefined, policy?: LocalStoreOptions['policy']): LocalStore {
    const store = new LocalStore({
      registry: r.name,
      mode: r.mode,
      versioning: r.versioning,
      signing: r.signing,
      quota: r.quota,
      db: this.o.db,
      cas: this.o.storage.cas(r.storage),
      events: this.o.events,
      clock: this.o.clock,
      log: this.o.log.child({ component: 'local-store', registry: r.name }),
      downloads: this.downloads,
      normalizer,
      policy,
    })
    this.stores.set(r.name, store)
    return store
  }

  get(registry: string): LocalStore | undefined {
    return this.stores.get(registry)
  }

  /** Writes pending download counts and stops the flush timer. */
  close(): Promise<void> {
    return this.downloads.close()
  }
}
