import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { bytes, count, dateTime, percent, relative } from '../format.ts'
import { ApiError, type ApiClient, type Banner, type Dashboard, type RegistrySummary } from '../api.ts'
import { ADMIN_SECTIONS } from '../router.ts'
import './admin-policy.ts'

type Section = (typeof ADMIN_SECTIONS)[number]

const TITLES: Record<Section, string> = {
  dashboard: 'Dashboard',
  firewall: 'Firewall',
  'audit-log': 'Audit log',
  'explore-cache': 'Explore cache',
  banner: 'Banner',
}

function message(err: unknown): string {
  return err instanceof ApiError && err.status === 0 ? 'The server could not be reached.' : (err as Error)?.message ?? String(err)
}

/** The admin area: a tab per section. Only rendered for admins (the shell checks the role). */
@customElement('bh-admin-page')
export class BhAdminPage extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .tabs { display: flex; gap: 0.25rem; border-bottom: 1px solid var(--bh-border); margin-bottom: 1.25rem; overflow-x: auto; }
    .tabs a { padding: 0.6rem 0.8rem; color: var(--bh-muted); font-size: 0.92rem; border-bottom: 2px solid transparent; margin-bottom: -1px; white-space: nowrap; }
    .tabs a:hover { color: var(--bh-text); text-decoration: none; }
    .tabs a[aria-current='page'] { color: var(--bh-primary-strong); border-bottom-color: var(--bh-primary); font-weight: 600; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @property() accessor section: Section = 'dashboard'

  override render(): unknown {
    const body = {
      dashboard: html`<bh-admin-dashboard .api=${this.api}></bh-admin-dashboard>`,
      firewall: html`<bh-admin-firewall .api=${this.api}></bh-admin-firewall>`,
      'audit-log': html`<bh-admin-audit .api=${this.api}></bh-admin-audit>`,
      'explore-cache': html`<bh-admin-explore-cache .api=${this.api}></bh-admin-explore-cache>`,
      banner: html`<bh-admin-banner .api=${this.api}></bh-admin-banner>`,
    }[this.section]
    return html`
      <div class="page-head"><div><h1>Administration</h1><p>${TITLES[this.section]}</p></div></div>
      <nav class="tabs" aria-label="Administration">
        ${ADMIN_SECTIONS.map((s) => html`<a href=${s === 'dashboard' ? '/admin' : `/admin/${s}`} aria-current=${s === this.section ? 'page' : 'false'}>${TITLES[s]}</a>`)}
      </nav>
      ${body}`
  }
}

/** Cache hits and misses, and bandwidth saved, per registry and in total. */
@customElement('bh-admin-dashboard')
export class BhAdminDashboard extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 1rem; margin-bottom: 1.25rem; }
    .tile { padding: 1rem 1.1rem; }
    .tile .k { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--bh-muted); font-weight: 650; }
    .tile .v { font-size: 1.75rem; font-weight: 700; margin-top: 0.2rem; font-variant-numeric: tabular-nums; letter-spacing: -0.01em; }
    .tile .s { font-size: 0.82rem; color: var(--bh-muted); margin-top: 0.15rem; }
    .bar { height: 0.4rem; border-radius: 999px; background: #e2e8f0; overflow: hidden; width: 6rem; display: inline-block; vertical-align: middle; margin-right: 0.5rem; }
    .bar > span { display: block; height: 100%; background: var(--bh-green); }
    .foot { padding: 0.6rem 1rem; border-top: 1px solid var(--bh-border); font-size: 0.8rem; color: var(--bh-muted); }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @state() accessor data: Dashboard | undefined
  @state() accessor error: string | undefined

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api')) void this.load()
  }

  async load(): Promise<void> {
    if (!this.api) return
    try {
      this.data = await this.api.get<Dashboard>('/api/v1/admin/dashboard')
      this.error = undefined
    } catch (err) {
      this.error = message(err)
    }
  }

  override render(): unknown {
    if (this.error) return html`<div class="card"><div class="state error" role="alert">${icons.alert('state-icon')}<h3>Could not load the dashboard</h3><p>${this.error}</p><div class="actions"><button class="btn" @click=${() => this.load()}>Try again</button></div></div></div>`
    const d = this.data
    if (!d) return html`<div class="loading"><span class="spinner"></span>Loading…</div>`
    const t = d.totals
    return html`
      <div class="tiles">
        <div class="card tile" data-tile="hit-rate"><div class="k">Cache hit rate</div><div class="v">${percent(t.hit_rate)}</div><div class="s">${count(t.hits)} hits · ${count(t.misses)} misses (artifacts)</div><div class="s">metadata: ${count(t.metadata_hits)} hits · ${count(t.metadata_misses)} misses</div></div>
        <div class="card tile" data-tile="saved"><div class="k">Bandwidth saved</div><div class="v">${bytes(t.bytes_saved)}</div><div class="s">${bytes(t.bytes_fetched)} fetched from upstreams</div></div>
        <div class="card tile" data-tile="cached"><div class="k">Cached artifacts</div><div class="v">${count(t.cached_artifacts)}</div><div class="s">${bytes(t.cached_bytes)} in storage</div></div>
        <div class="card tile" data-tile="packages"><div class="k">Packages</div><div class="v">${count(t.packages)}</div><div class="s">proxied and hosted</div></div>
      </div>
      <section class="card" aria-label="Registries">
        <div class="card-header"><h2>Per registry</h2></div>
        ${d.registries.length === 0 ? html`<div class="state"><h3>No registries configured</h3></div>` : html`<div class="table-wrap"><table class="responsive">
          <thead><tr><th>Registry</th><th>Mode</th><th class="num">Hits</th><th class="num">Misses</th><th>Hit rate</th><th class="num">Saved</th><th class="num">Fetched</th><th class="num">Artifacts</th><th class="num">Packages</th></tr></thead>
          <tbody>${d.registries.map((r) => html`<tr data-registry=${r.registry}>
            <td class="name" data-label="Registry">${r.registry}<span class="sub">${r.type}</span></td>
            <td data-label="Mode">${r.mode}</td>
            <td class="num" data-label="Hits">${count(r.hits)}<span class="sub" title="metadata hits">${count(r.metadata_hits)} meta</span></td>
            <td class="num" data-label="Misses">${count(r.misses)}<span class="sub" title="metadata misses">${count(r.metadata_misses)} meta</span></td>
            <td data-label="Hit rate"><span class="bar"><span style="width:${Math.round((r.hit_rate ?? 0) * 100)}%"></span></span>${percent(r.hit_rate)}</td>
            <td class="num" data-label="Saved">${bytes(r.bytes_saved)}</td>
            <td class="num" data-label="Fetched">${bytes(r.bytes_fetched)}</td>
            <td class="num" data-label="Artifacts">${count(r.cached_artifacts)}<span class="sub">${bytes(r.cached_bytes)}</span></td>
            <td class="num" data-label="Packages">${count(r.packages)}${r.local_packages ? html`<span class="sub">${count(r.local_packages)} hosted</span>` : nothing}</td>
          </tr>`)}</tbody>
        </table></div>`}
        <div class="foot">Traffic counted since ${dateTime(d.since)} (${relative(d.since)}), on this server.</div>
      </section>`
  }
}

/** Flush the explorer cache of one registry or all of it (seed "Manual invalidation"). */
@customElement('bh-admin-explore-cache')
export class BhAdminExploreCache extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .row { display: flex; gap: 0.75rem; align-items: flex-end; flex-wrap: wrap; }
    .row .field { flex: 1 1 14rem; margin: 0; }
    .card-body + .card-body { border-top: 1px solid var(--bh-border); }
    .notice { margin-top: 1rem; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @state() accessor registries: RegistrySummary[] = []
  @state() accessor selected = ''
  @state() accessor result: { ok: boolean; text: string } | undefined
  @state() accessor busy = false

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api') && this.api) {
      this.api.get<{ registries: RegistrySummary[] }>('/api/v1/registries').then((r) => {
        this.registries = r.registries
        this.selected ||= r.registries[0]?.name ?? ''
      }, () => {})
    }
  }

  private async flush(registry?: string): Promise<void> {
    if (!this.api) return
    this.busy = true
    try {
      await this.api.send('POST', '/api/v1/admin/explore/invalidate', registry ? { registry } : {})
      this.result = { ok: true, text: registry ? `Explorer cache of ${registry} invalidated.` : 'The whole explorer cache was invalidated.' }
    } catch (err) {
      this.result = { ok: false, text: message(err) }
    } finally {
      this.busy = false
    }
  }

  override render(): unknown {
    return html`<section class="card">
      <div class="card-body">
        <h3>Invalidate by registry</h3>
        <p class="small muted" style="margin:0.3rem 0 0.9rem">Clears cached explorer results that include this registry. The next request re-reads the database.</p>
        <div class="row">
          <div class="field"><label for="reg">Registry</label>
            <select id="reg" @change=${(e: Event) => (this.selected = (e.target as HTMLSelectElement).value)}>
              ${this.registries.map((r) => html`<option value=${r.name} ?selected=${r.name === this.selected}>${r.name} (${r.type})</option>`)}
            </select></div>
          <button class="btn primary" id="flush-one" ?disabled=${this.busy || !this.selected} @click=${() => this.flush(this.selected)}>Invalidate registry</button>
        </div>
      </div>
      <div class="card-body">
        <h3>Invalidate all</h3>
        <p class="small muted" style="margin:0.3rem 0 0.9rem">Flushes the entire explorer cache of this server. Other replicas keep theirs until their 10-minute TTL.</p>
        <button class="btn danger" id="flush-all" ?disabled=${this.busy} @click=${() => this.flush()}>Invalidate all</button>
        ${this.result ? html`<p class="notice ${this.result.ok ? 'info' : 'error'}" role="status">${this.result.text}</p>` : nothing}
      </div>
    </section>`
  }
}

/** Set or clear the global banner (seed "Global banner"). */
@customElement('bh-admin-banner')
export class BhAdminBanner extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .levels { display: flex; gap: 1rem; }
    .levels label { display: flex; gap: 0.35rem; align-items: center; font-weight: 500; }
    .actions { display: flex; gap: 0.6rem; flex-wrap: wrap; }
    .current { margin-bottom: 1rem; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @state() accessor current: Banner | null = null
  @state() accessor text = ''
  @state() accessor level: Banner['level'] = 'info'
  @state() accessor status: { ok: boolean; text: string } | undefined

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api')) void this.load()
  }

  /** Bumped by save and clear: a load that answers after them must not overwrite their result. */
  private changes = 0

  private async load(): Promise<void> {
    if (!this.api) return
    const before = this.changes
    try {
      const banner = (await this.api.get<{ banner: Banner | null }>('/api/v1/banner')).banner
      if (before !== this.changes) return
      this.current = banner
      if (this.current) {
        this.text = this.current.message
        this.level = this.current.level
      }
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  private async save(): Promise<void> {
    if (!this.api) return
    this.changes++
    try {
      this.current = (await this.api.send<{ banner: Banner }>('PUT', '/api/v1/admin/banner', { message: this.text, level: this.level })).banner
      this.status = { ok: true, text: 'Banner set. Visitors see it within 30 seconds.' }
      window.dispatchEvent(new CustomEvent('bh-banner-changed'))
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  private async clear(): Promise<void> {
    if (!this.api) return
    this.changes++
    try {
      await this.api.send('DELETE', '/api/v1/admin/banner')
      this.current = null
      this.status = { ok: true, text: 'Banner cleared.' }
      window.dispatchEvent(new CustomEvent('bh-banner-changed'))
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  override render(): unknown {
    return html`<section class="card"><div class="card-body">
      <p class="small muted current">${this.current ? html`Current banner (${this.current.level}), set by <b>${this.current.set_by}</b> ${relative(this.current.set_at)}.` : 'No banner is shown right now.'}</p>
      <div class="field"><label for="msg">Message</label>
        <textarea id="msg" maxlength="500" placeholder="Scheduled maintenance in 30 minutes" .value=${this.text} @input=${(e: Event) => (this.text = (e.target as HTMLTextAreaElement).value)}></textarea></div>
      <div class="field"><label>Level</label><div class="levels" role="radiogroup">
        ${(['info', 'warning', 'error'] as const).map((l) => html`<label><input type="radio" name="level" value=${l} .checked=${this.level === l} @change=${() => (this.level = l)}>${l}</label>`)}
      </div></div>
      <div class="actions">
        <button class="btn primary" id="set" ?disabled=${!this.text.trim()} @click=${this.save}>Set banner</button>
        <button class="btn" id="clear" ?disabled=${!this.current} @click=${this.clear}>Clear banner</button>
      </div>
      ${this.status ? html`<p class="notice ${this.status.ok ? 'info' : 'error'}" role="status" style="margin-top:1rem">${this.status.text}</p>` : nothing}
    </div></section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-admin-page': BhAdminPage
    'bh-admin-dashboard': BhAdminDashboard
    'bh-admin-explore-cache': BhAdminExploreCache
    'bh-admin-banner': BhAdminBanner
  }
}
