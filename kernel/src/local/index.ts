/**
 * The local package stores of a kernel: one {@link LocalStore} per registry instance (the
 * `ctx.packages` of its context), recording downloads through the kernel's batched accounting.
 */
import type { Clock, CoreEvents, EventBus, LoggerService } from '@batlehub/sdk'
import type { RegistryConfig } from '../config/schema.ts'
import type { Accounting } from '../cache/accounting.ts'
import type { Database } from '../db/orm.ts'
import type { StorageManager } from '../storage/manager.ts'
import { PackageCache } from './package-cache.ts'
import { LocalStore, type LocalStoreOptions } from './store.ts'

export { LocalStore, VISIBILITIES, type Visibility, type ClaimInfo } from './store.ts'
export { localFileKey, keySegment, checkFilename } from './names.ts'
export { isPrerelease } from './versioning.ts'

export interface LocalStoresOptions {
  db: Database
  storage: StorageManager
  events: EventBus<CoreEvents>
  clock: Clock
  log: LoggerService
  /** The kernel's download accounting; the kernel flushes it at close. */
  accounting: Accounting
}

export class LocalStores {
  private readonly stores = new Map<string, LocalStore>()

  /** Loaded packages of every store (bounded, short-lived; see {@link PackageCache}). */
  readonly packageCache: PackageCache

  constructor(private readonly o: LocalStoresOptions) {
    this.packageCache = new PackageCache({ now: () => o.clock.now() })
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
      accounting: this.o.accounting,
      packageCache: this.packageCache,
      normalizer,
      policy,
    })
    this.stores.set(r.name, store)
    return store
  }

  get(registry: string): LocalStore | undefined {
    return this.stores.get(registry)
  }
}
