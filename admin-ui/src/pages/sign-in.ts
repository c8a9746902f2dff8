import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { ApiError, type ApiClient, type WhoAmI } from '../api.ts'

/**
 * Sign-in with a token. The token is checked with `GET /api/v1/auth/whoami`; on success the page
 * fires `bh-signed-in` (`detail: { token, identity }`) and the shell keeps the token in session
 * storage, so it is forgotten when the browser tab closes.
 */
@customElement('bh-sign-in-page')
export class BhSignInPage extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .wrap { max-width: 26rem; margin: 3rem auto; }
    .card { padding: 1.75rem; }
    .logo { display: flex; justify-content: center; margin-bottom: 1rem; }
    .logo svg { width: 44px; height: 44px; }
    h1 { text-align: center; font-size: 1.4rem; }
    .lead { text-align: center; color: var(--bh-muted); margin: 0.35rem 0 1.5rem; font-size: 0.92rem; }
    button.primary { width: 100%; height: 2.5rem; }
    .notice { margin-bottom: 1rem; }
    .help { margin-top: 1.25rem; font-size: 0.82rem; color: var(--bh-muted); text-align: center; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  /** A message to show above the form (an expired session). */
  @property() accessor notice = ''
  @state() accessor token = ''
  @state() accessor error = ''
  @state() accessor busy = false

  private async submit(e: Event): Promise<void> {
    e.preventDefault()
    const token = this.token.trim()
    if (!token || !this.api) return
    this.busy = true
    this.error = ''
    try {
      const identity = await this.api.get<WhoAmI>('/api/v1/auth/whoami', { token })
      this.dispatchEvent(new CustomEvent('bh-signed-in', { detail: { token, identity }, bubbles: true, composed: true }))
      this.token = ''
    } catch (err) {
      this.error = err instanceof ApiError && err.status === 401
        ? 'This token was not accepted. Check that it is complete and has not expired.'
        : err instanceof ApiError && err.status === 0 ? 'The server could not be reached.' : (err as Error).message
    } finally {
      this.busy = false
    }
  }

  override render(): unknown {
    return html`<div class="wrap"><form class="card" @submit=${this.submit}>
      <div class="logo">${icons.logo}</div>
      <h1>Sign in to BatleHub</h1>
      <p class="lead">Use an API token from your administrator.</p>
      ${this.notice ? html`<p class="notice info" role="status">${this.notice}</p>` : nothing}
      ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
      <div class="field">
        <label for="token">Token</label>
        <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="bh_…" .value=${this.token}
          @input=${(e: Event) => (this.token = (e.target as HTMLInputElement).value)} required>
        <p class="hint">Kept in this tab's session storage and sent only to this server.</p>
      </div>
      <button class="btn primary" type="submit" ?disabled=${this.busy || !this.token.trim()}>${this.busy ? 'Checking…' : 'Sign in'}</button>
      <p class="help">Browsing without a token shows what anonymous users may see.</p>
    </form></div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-sign-in-page': BhSignInPage
  }
}
