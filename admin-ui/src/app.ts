import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { provide } from '@lit/context'
import { base, badges, buttons, states } from './styles.ts'
import { icons } from './icons.ts'
import { ApiClient, ApiError, TOKEN_KEY, type WhoAmI } from './api.ts'
import { navigate, parseRoute, type Route } from './router.ts'
import { PluginUi, pluginUiContext } from './plugins.ts'
import { apiContext, sessionContext } from './contexts.ts'
import './components/banner.ts'
import './pages/explorer.ts'
import './pages/package.ts'
import './pages/setup.ts'
import './pages/admin.ts'
import './pages/sign-in.ts'

const ANONYMOUS: WhoAmI = { user_id: 'anonymous', role: 'anonymous', groups: [], provider: 'anonymous', display_name: null, explorable_registries: [] }

interface NavItem {
  href: string
  label: string
  active: (r: Route) => boolean
  roles: ReadonlyArray<WhoAmI['role']>
}

/** Navigation, filtered by the caller's role. */
const NAV: NavItem[] = [
  { href: '/explore', label: 'Explore', active: (r) => r.name === 'explore' || r.name === 'package', roles: ['anonymous', 'user', 'admin'] },
  { href: '/setup', label: 'Setup Guide', active: (r) => r.name === 'setup', roles: ['anonymous', 'user', 'admin'] },
  { href: '/admin', label: 'Admin', active: (r) => r.name === 'admin', roles: ['admin'] },
]

/**
 * The application shell: sign-in state, role-aware navigation, the global banner, and the page
 * for the current URL. Provides the API client, the session and the plugin UI registry to every
 * element below it (plugins included) through @lit/context.
 */
@customElement('bh-app')
export class BhApp extends LitElement {
  static override styles = [base, badges, buttons, states, css`
    :host { display: flex; flex-direction: column; min-height: 100vh; }
    header { background: var(--bh-header); color: #e2e8f0; position: sticky; top: 0; z-index: 20; box-shadow: 0 1px 0 rgb(255 255 255 / 0.06); }
    .bar { max-width: 82rem; margin: 0 auto; display: flex; align-items: center; gap: 1.5rem; height: 3.6rem; padding: 0 1.25rem; }
    .brand { display: flex; align-items: center; gap: 0.6rem; color: #fff; font-weight: 700; font-size: 1.08rem; letter-spacing: -0.01em; }
    .brand:hover { text-decoration: none; color: #fff; }
    nav.main { display: flex; gap: 0.25rem; flex: 1; }
    nav.main a { color: #cbd5e1; padding: 0.45rem 0.75rem; border-radius: var(--bh-radius-sm); font-size: 0.92rem; font-weight: 500; }
    nav.main a:hover { color: #fff; background: rgb(255 255 255 / 0.07); text-decoration: none; }
    nav.main a[aria-current='page'] { color: #fff; background: rgb(255 255 255 / 0.12); }
    .who { display: flex; align-items: center; gap: 0.6rem; font-size: 0.88rem; }
    .who .user { display: flex; align-items: center; gap: 0.45rem; color: #e2e8f0; }
    .who .role { font-size: 0.7rem; text-transform: uppercase; letter-spacing: 0.05em; padding: 0.05rem 0.45rem; border-radius: 999px; background: rgb(255 255 255 / 0.12); color: #cbd5e1; font-weight: 650; }
    .who .role.admin { background: #7f1d1d; color: #fecaca; }
    .who .btn { height: 2rem; font-size: 0.85rem; background: transparent; color: #e2e8f0; border-color: #334155; }
    .who .btn:hover:not(:disabled) { background: rgb(255 255 255 / 0.08); border-color: #475569; }
    .who .btn.primary { background: var(--bh-primary); border-color: var(--bh-primary); color: #fff; }
    .menu-btn { display: none; background: none; border: none; color: #e2e8f0; padding: 0.4rem; border-radius: 6px; cursor: pointer; }
    main { flex: 1; width: 100%; max-width: 82rem; margin: 0 auto; padding: 1.75rem 1.25rem 3rem; }
    footer { text-align: center; font-size: 0.78rem; color: var(--bh-muted); padding: 1rem; }
    @media (max-width: 760px) {
      .bar { gap: 0.75rem; height: 3.25rem; padding: 0 0.9rem; }
      .menu-btn { display: inline-flex; }
      nav.main { display: none; position: absolute; top: 3.25rem; left: 0; right: 0; flex-direction: column; background: var(--bh-header-2); padding: 0.5rem; box-shadow: var(--bh-shadow-lg); }
      nav.main.open { display: flex; }
      nav.main a { padding: 0.7rem 0.8rem; }
      .spacer { flex: 1; }
      .who .user .name { display: none; }
      main { padding: 1.1rem 0.9rem 2.5rem; }
    }
  `]

  @property({ attribute: false }) accessor api: ApiClient = new ApiClient({
    token: () => this.token,
    onUnauthorized: () => this.expire(),
  })

  @provide({ context: apiContext }) accessor providedApi: ApiClient | undefined
  @provide({ context: sessionContext }) @state() accessor session: WhoAmI | undefined
  @provide({ context: pluginUiContext }) accessor plugins: PluginUi | undefined

  @state() accessor route: Route = parseRoute(location.pathname, location.search)
  @state() accessor token: string | null = sessionStorage.getItem(TOKEN_KEY)
  @state() accessor menuOpen = false
  @state() accessor notice = ''
  @state() accessor fatal: string | undefined

  readonly #onLocation = () => {
    this.route = parseRoute(location.pathname, location.search)
    this.menuOpen = false
    window.scrollTo?.(0, 0)
  }

  /** Follows same-origin links without a page load. */
  readonly #onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement)
    if (!a || !a.href || a.target || a.hasAttribute('download')) return
    const url = new URL(a.href)
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/proxy/')) return
    e.preventDefault()
    navigate(url.pathname + url.search)
  }

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener('popstate', this.#onLocation)
    window.addEventListener('bh-location-changed', this.#onLocation)
    this.addEventListener('click', this.#onClick)
    this.providedApi = this.api
    this.plugins = new PluginUi(this.api)
    void this.identify()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener('popstate', this.#onLocation)
    window.removeEventListener('bh-location-changed', this.#onLocation)
    this.removeEventListener('click', this.#onClick)
  }

  /** Who the stored token belongs to (anonymous without one). */
  private async identify(): Promise<void> {
    try {
      this.session = await this.api.get<WhoAmI>('/api/v1/auth/whoami')
      this.fatal = undefined
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return // expire() already ran
      this.session = this.session ?? ANONYMOUS
      this.fatal = err instanceof ApiError && err.status === 0 ? 'The server could not be reached.' : (err as Error).message
    }
  }

  /** The stored token was refused: forget it and continue anonymously. */
  private expire(): void {
    sessionStorage.removeItem(TOKEN_KEY)
    this.token = null
    this.notice = 'Your session has ended. Sign in again to continue.'
    void this.identify()
  }

  private onSignedIn(e: CustomEvent<{ token: string; identity: WhoAmI }>): void {
    sessionStorage.setItem(TOKEN_KEY, e.detail.token)
    this.token = e.detail.token
    this.session = e.detail.identity
    this.notice = ''
    const next = this.route.name === 'sign-in' && this.route.next ? this.route.next : '/explore'
    navigate(next)
  }

  private signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY)
    this.token = null
    this.session = ANONYMOUS
    void this.identify()
    navigate('/explore')
  }

  override updated(): void {
    const titles: Record<Route['name'], string> = {
      explore: 'Explore', package: this.route.name === 'package' ? this.route.pkg : 'Package', setup: 'Setup Guide',
      'sign-in': 'Sign in', admin: 'Administration', 'not-found': 'Not found',
    }
    document.title = `${titles[this.route.name]} · BatleHub`
  }

  private renderPage(): unknown {
    const r = this.route
    const s = this.session
    if (!s) return html`<div class="loading"><span class="spinner"></span>Loading…</div>`
    switch (r.name) {
      case 'explore':
        return html`<bh-explorer-page .api=${this.api} .session=${s} .query=${{ registry: r.registry, q: r.q, sort: r.sort, page: r.page }} sync-url></bh-explorer-page>`
      case 'package':
        return html`<bh-package-page .api=${this.api} .session=${s} registry=${r.registry} package-name=${r.pkg}></bh-package-page>`
      case 'setup':
        return html`<bh-setup-page .api=${this.api} .session=${s}></bh-setup-page>`
      case 'sign-in':
        return html`<bh-sign-in-page .api=${this.api} notice=${this.notice} @bh-signed-in=${this.onSignedIn}></bh-sign-in-page>`
      case 'admin':
        if (s.role !== 'admin') {
          return html`<div class="state" role="alert">${icons.lock('state-icon')}<h3>Administrators only</h3>
            <p>${s.role === 'anonymous' ? 'Sign in with an admin token to open the administration pages.' : 'Your role does not include administration.'}</p>
            ${s.role === 'anonymous' ? html`<div class="actions"><a class="btn primary" href="/sign-in?next=${encodeURIComponent(location.pathname)}">Sign in</a></div>` : nothing}</div>`
        }
        return html`<bh-admin-page .api=${this.api} section=${r.section}></bh-admin-page>`
      default:
        return html`<div class="state">${icons.box('state-icon')}<h3>Page not found</h3><p>There is no page at <code>${r.path}</code>.</p>
          <div class="actions"><a class="btn" href="/explore">Go to the explorer</a></div></div>`
    }
  }

  override render(): unknown {
    const s = this.session
    const role = s?.role ?? 'anonymous'
    return html`
      <header>
        <div class="bar">
          <button class="menu-btn" aria-label="Menu" aria-expanded=${this.menuOpen ? 'true' : 'false'} @click=${() => (this.menuOpen = !this.menuOpen)}>${icons.menu}</button>
          <a class="brand" href="/explore">${icons.logo}<span>BatleHub</span></a>
          <nav class="main ${this.menuOpen ? 'open' : ''}" aria-label="Main">
            ${NAV.filter((n) => n.roles.includes(role)).map((n) => html`<a href=${n.href} aria-current=${n.active(this.route) ? 'page' : 'false'}>${n.label}</a>`)}
          </nav>
          <span class="spacer"></span>
          <div class="who">
            ${s && s.role !== 'anonymous'
              ? html`<span class="user" title=${`${s.user_id} (${s.provider})`}><span class="name">${s.display_name ?? s.user_id}</span><span class="role ${s.role}">${s.role}</span></span>
                <button class="btn" @click=${this.signOut}>Sign out</button>`
              : this.route.name === 'sign-in' ? nothing : html`<a class="btn primary" href="/sign-in?next=${encodeURIComponent(location.pathname + location.search)}">Sign in</a>`}
          </div>
        </div>
      </header>
      <bh-banner .api=${this.api}></bh-banner>
      ${this.fatal ? html`<p class="notice error" role="alert" style="margin:1rem auto 0; max-width:80rem">${icons.alert()} ${this.fatal}</p>` : nothing}
      ${this.notice && this.route.name !== 'sign-in' ? html`<p class="notice info" role="status" style="margin:1rem auto 0; max-width:80rem">${this.notice} <a href="/sign-in">Sign in</a></p>` : nothing}
      <main>${this.renderPage()}</main>
      <footer>BatleHub · <a href="/api/v1/openapi.json">API</a></footer>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-app': BhApp
  }
}
