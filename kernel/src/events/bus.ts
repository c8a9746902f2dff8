/**
 * The kernel event bus (tiny-typed-emitter). Listeners are isolated: a throwing or rejecting
 * listener is logged with its subscription id and never breaks the emitter or other listeners.
 */
import { TypedEmitter } from 'tiny-typed-emitter'
import type { CoreEvents, EventBus, LoggerService, SubscribeOptions } from '@batlehub/sdk'

type Listener = (payload: any) => void

export class KernelEventBus<E extends object = CoreEvents> implements EventBus<E> {
  private readonly emitter = new TypedEmitter<Record<string, Listener>>()
  private seq = 0

  constructor(private readonly log: LoggerService) {
    // Many subsystems and plugins subscribe to the same core events.
    this.emitter.setMaxListeners(0)
  }

  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void | Promise<void>, options: SubscribeOptions = {}): () => void {
    const id = options.id ?? `${event}#${++this.seq}`
    const wrapped: Listener = (payload) => {
      try {
        const result = listener(payload)
        if (result && typeof (result as Promise<void>).then === 'function') {
          ;(result as Promise<void>).catch((err) => this.report(event, id, err))
        }
      } catch (err) {
        this.report(event, id, err)
      }
    }
    this.emitter.on(event, wrapped)
    return () => {
      this.emitter.off(event, wrapped)
    }
  }

  emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    this.emitter.emit(event, payload)
  }

  listenerCount(event: keyof E & string): number {
    return this.emitter.listenerCount(event)
  }

  removeAll(): void {
    this.emitter.removeAllListeners()
  }

  private report(event: string, subscription: string, err: unknown): void {
    this.log.error('event listener failed', { event, subscription, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) })
  }
}
