import { LitElement, css, html } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { base } from '../styles.ts'
import { icons } from '../icons.ts'
import type { ApiClient, Banner } from '../api.ts'

const DISMISSED = 'batlehub.banner-dismissed'

/**
 * The global banner (seed "Global banner"): polls `GET /api/v1/banner` every 30 seconds and shows
 * the message as a dismissible bar. A dismissed banner stays hidden until a new one is set.
 */
@customElement('bh-banner')
export class BhBanner extends LitElement {
  static override styles = [base, css`
    :host { display: block; }
    .bar { display: flex; align-items: center; gap: 0.7rem; padding: 0.55rem 1.25rem; font-size: 0.9rem; border-bottom: 1px solid; }
    .bar.info { background: #eff6ff; color: #1e3a8a; border-color: #bfdbfe; }
    .bar.warning { background: #fffbeb; color: #78350f; border-color: #fde68a; }
    .bar.error { background: #fef2f2; color: #7f1d1d; border-color: #fecaca; }
    .msg { flex: 1; }
    button { background: none; border: none; color: inherit; cursor: pointer; padding: 0.2rem; border-radius: 4px; display: inline-flex; opacity: 0.75; }
    button:hover { opacity: 1; background: rgb(0 0 0 / 0.06); }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  /** Poll period; the seed's UI polls every 30 seconds. */
  @property({ type: Number }) accessor interval = 30_000
  @state() accessor banner: Banner | null = null
  @state() accessor dismissed = sessionStorage.getItem(DISMISSED) ?? ''
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #onChanged = () => void this.refresh()

  override connectedCallback(): void {
    super.connectedCallback()
    this.#timer = setInterval(() => void this.refresh(), this.interval)
    // The admin banner page announces its changes so the author sees them at once.
    window.addEventListener('bh-banner-changed', this.#onChanged)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this.#timer)
    window.removeEventListener('bh-banner-changed', this.#onChanged)
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api')) void this.refresh()
  }

  async refresh(): Promise<void> {
    if (!this.api) return
    try {
      this.banner = (await this.api.get<{ banner: Banner | null }>('/api/v1/banner')).banner
    } catch {
      // Keep what is shown; the next poll tries again.
    }
  }

  private dismiss(): void {
    if (!this.banner) return
    this.dismissed = `${this.banner.set_at}|${this.banner.message}`
    sessionStorage.setItem(DISMISSED, this.dismissed)
  }

  override render(): unknown {
    const b = this.banner
    if (!b || `${b.set_at}|${b.message}` === this.dismissed) return null
    return html`<div class="bar ${b.level}" role=${b.level === 'info' ? 'status' : 'alert'}>
      ${b.level === 'info' ? icons.info : icons.alert()}
      <span class="msg">${b.message}</span>
      <button @click=${this.dismiss} aria-label="Dismiss">${icons.x}</button>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-banner': BhBanner
  }
}
