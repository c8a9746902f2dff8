/**
 * The event bus as plugins see it.
 *
 * @remarks
 * Names are `<owner>:<entity>.<past-verb>`; kernel events use `core:` and carry `registry`.
 * Payloads are plain JSON. Events are facts, not commands.
 *
 * @packageDocumentation
 */
import type { Role } from './identity.ts'

/** Who did something, as carried in event payloads. @public @since 1.0.0 */
export interface EventActor {
  subject: string
  userId: string
  role: Role
}

/**
 * Events the kernel emits, with their payloads.
 *
 * @public
 * @since 1.0.0
 */
export interface CoreEvents {
  /** An artifact was fetched from an upstream and committed to storage. */
  'core:artifact.cached': { registry: string; name: string; version?: string; key: string; size: number; sha256: string; at: string }
  /** An artifact was served (batched into access accounting, never one DB write per event). */
  'core:artifact.served': { registry: string; name: string; version?: string; key: string; bytes: number; cacheHit: boolean; at: string }
  /** A version was published to a local or hybrid registry. */
  'core:package.published': { registry: string; name: string; version: string; actor: EventActor; at: string }
  /** A version was yanked. */
  'core:package.yanked': { registry: string; name: string; version: string; actor: EventActor; at: string }
  /** A version was unyanked. */
  'core:package.unyanked': { registry: string; name: string; version: string; actor: EventActor; at: string }
  /** A version (or, with no version, a whole package) was deleted. */
  'core:package.deleted': { registry: string; name: string; version?: string; actor: EventActor; at: string }
  /** A version was deprecated (or undeprecated with an empty message). */
  'core:package.deprecated': { registry: string; name: string; version: string; message: string; actor: EventActor; at: string }
  /** A policy decision refused a request. */
  'core:policy.denied': { registry: string; name?: string; version?: string; rule: string; reason: string; subject: string; at: string }
  /** A policy decision allowed a request. */
  'core:policy.allowed': { registry: string; name?: string; version?: string; subject: string; at: string }
  /**
   * A version was blocked by an administrator.
   *
   * @since 1.0.0
   */
  'core:package.blocked': { registry: string; name: string; version: string; reason: string | null; actor: EventActor; at: string }
  /**
   * A block was lifted.
   *
   * @since 1.0.0
   */
  'core:package.unblocked': { registry: string; name: string; version: string; actor: EventActor; at: string }
  /**
   * A client address was blocked, by an administrator (`manual`) or by the violation threshold (`auto`).
   *
   * @since 1.0.0
   */
  'core:ip.blocked': { ip: string; source: 'manual' | 'auto'; reason: string | null; expiresAt: string | null; at: string }
  /**
   * A client address was unblocked.
   *
   * @since 1.0.0
   */
  'core:ip.unblocked': { ip: string; at: string }
  /**
   * A caller went over its rate limit (`enforcement` says whether the request was refused).
   *
   * @since 1.0.0
   */
  'core:ratelimit.exceeded': { pool: string; limit: number; enforcement: 'block' | 'warn'; subject: string; ip: string; at: string }
  /** A registry's cache was cleared by an administrator. */
  'core:cache.cleared': { registry: string; at: string }
  /** The running configuration was replaced. */
  'core:config.reloaded': { at: string; registries: string[] }
  /** The kernel finished start-up and listens. */
  'core:kernel.started': { at: string; url: string }
}

/** Options of a subscription. @public @since 1.0.0 */
export interface SubscribeOptions {
  /** Names the subscription in logs when its listener throws. */
  id?: string
}

/**
 * Typed publish/subscribe. A throwing or rejecting listener is logged with its subscription id and never
 * breaks the emitter or the other listeners.
 *
 * @public
 * @since 1.0.0
 */
export interface EventBus<E extends object = CoreEvents> {
  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void | Promise<void>, options?: SubscribeOptions): () => void
  emit<K extends keyof E & string>(event: K, payload: E[K]): void
}
