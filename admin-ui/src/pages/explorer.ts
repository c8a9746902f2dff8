import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { count, dateTime, relative } from '../format.ts'
import { ApiError, qs, type ApiClient, type ExplorePackage, type ExplorePage, type RegistryStats, type RegistrySummary, type Sort, type UpstreamHit, type WhoAmI } from '../api.ts'
import { exploreHref, packageHref } from '../router.ts'

/** Seed: the search fires 300 ms after the last keystroke. */
export const SEARCH_DEBOUNCE_MS = 300
const PER_PAGE = 20

interface SidebarEntry {
  name: string
  type: string
  count: number
}

export interface ExploreQuery {
  registry?: string
  q?: string
  sort?: string
  page?: number
}

const SORTS: Array<{ value: Sort; label: string }> = [
  { value: 'downloads', label: 'Most downloaded' },
  { value: 'name', label: 'Name A–Z' },
  { value: 'recent', label: 'Recently accessed' },
]

function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status === 0 ? 'The server could not be reached.' : err.message
  return (err as Error)?.message ?? String(err)
}

/**
 * The Package Explorer catalog (`/explore`): registry sidebar, debounced server-side search, sort,
 * paging, Source / Has-blocked badges, and upstream results marked "Not Yet Proxied".
 */
@customElement('bh-explorer-page')
export class BhExplorerPage extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .layout { display: grid; grid-template-columns: 15rem minmax(0, 1fr); gap: 1.5rem; align-items: start; }
    aside { position: sticky; top: 1rem; }
    aside h2 { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--bh-muted); font-weight: 650; padding: 0 0.6rem 0.5rem; }
    .reg-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
    .reg {
      width: 100%; display: flex; align-items: center; justify-content: space-between; gap: 0.5rem;
      padding: 0.45rem 0.6rem; border: none; border-radius: var(--bh-radius-sm); background: transparent;
      font: inherit; font-size: 0.9rem; color: var(--bh-text-2); cursor: pointer; text-align: left;
    }
    .reg:hover { background: #e9eef5; }
    .reg[aria-current='true'] { background: var(--bh-primary-soft); color: var(--bh-primary-strong); font-weight: 600; }
    .reg .label { display: flex; flex-direction: column; min-width: 0; }
    .reg .rname { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .reg .rtype { font-size: 0.72rem; color: var(--bh-muted); font-weight: 400; }
    .reg .n { font-size: 0.75rem; font-variant-numeric: tabular-nums; padding: 0 0.45rem; border-radius: 999px; background: #e2e8f0; color: var(--bh-text-2); font-weight: 600; }
    .reg[aria-current='true'] .n { background: #dbeafe; color: var(--bh-primary-strong); }
    .toolbar { display: flex; gap: 0.75rem; align-items: center; padding: 0.9rem 1rem; border-bottom: 1px solid var(--bh-border); flex-wrap: wrap; }
    .search { position: relative; flex: 1 1 16rem; }
    .search svg { position: absolute; left: 0.65rem; top: 50%; transform: translateY(-50%); color: var(--bh-muted); pointer-events: none; }
    .search input { padding-left: 2.1rem; }
    .sort { display: flex; align-items: center; gap: 0.5rem; }
    .sort label { margin: 0; white-space: nowrap; font-weight: 500; color: var(--bh-muted); }
    .sort select { width: auto; }
    .summary { display: flex; justify-content: space-between; align-items: center; gap: 0.75rem; padding: 0.6rem 1rem; font-size: 0.85rem; color: var(--bh-muted); border-bottom: 1px solid var(--bh-border); flex-wrap: wrap; }
    .summary .notice { padding: 0.3rem 0.6rem; }
    .pager { display: flex; align-items: center; justify-content: space-between; gap: 0.75rem; padding: 0.7rem 1rem; border-top: 1px solid var(--bh-border); font-size: 0.85rem; color: var(--bh-muted); }
    .pager .btns { display: flex; gap: 0.4rem; }
    tr.upstream td { background: #fcfdff; }
    tr.upstream td.name { color: var(--bh-text-2); }
    tr.section td { background: var(--bh-surface-2); font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.05em; font-weight: 650; color: var(--bh-muted); padding: 0.45rem 0.9rem; }
    td .badges { display: inline-flex; gap: 0.35rem; flex-wrap: wrap; }
    td.desc { color: var(--bh-muted); min-width: 10rem; font-size: 0.84rem; line-height: 1.35; }
    td.desc span { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
    .reg-chip { font-size: 0.8rem; color: var(--bh-text-2); white-space: nowrap; }
    td.mono { white-space: nowrap; }
    @media (max-width: 860px) {
      .layout { grid-template-columns: minmax(0, 1fr); gap: 1rem; }
      aside { position: static; min-width: 0; }
      aside h2 { display: none; }
      .reg-list { flex-direction: row; overflow-x: auto; gap: 0.4rem; padding-bottom: 0.2rem; }
      .reg { width: auto; white-space: nowrap; border: 1px solid var(--bh-border); background: var(--bh-surface); }
      .reg .rtype { display: none; }
    }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @property({ attribute: false }) accessor session: WhoAmI | undefined
  /** The query from the URL; the page keeps the URL in step when `syncUrl` is set. */
  @property({ attribute: false }) accessor query: ExploreQuery = {}
  @property({ type: Boolean, attribute: 'sync-url' }) accessor syncUrl = false

  @state() accessor registry: string | undefined
  @state() accessor q = ''
  @state() accessor input = ''
  @state() accessor sort: Sort = 'downloads'
  @state() accessor page = 0
  @state() accessor result: ExplorePage | undefined
  @state() accessor error: string | undefined
  @state() accessor loading = false
  @state() accessor sidebar: SidebarEntry[] | undefined
  @state() accessor sidebarError: string | undefined
  @state() accessor upstream: UpstreamHit[] = []
  @state() accessor upstreamLoading = false

  #debounce: ReturnType<typeof setTimeout> | undefined
  #seq = 0
  #upSeq = 0

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('query')) {
      const q = this.query ?? {}
      this.registry = q.registry
      this.q = q.q ?? ''
      this.input = this.q
      this.sort = SORTS.some((s) => s.value === q.sort) ? (q.sort as Sort) : 'downloads'
      this.page = q.page ?? 0
    }
    if (changed.has('api') || changed.has('session')) void this.loadSidebar()
    if (changed.has('api') || changed.has('session') || changed.has('query')) {
      void this.load()
      void this.loadUpstream()
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#debounce)
  }

  /** Applies a change of filters: reload, and keep the URL in step. */
  private apply(change: Partial<{ registry: string | undefined; q: string; sort: Sort; page: number }>): void {
    const searchChanged = 'q' in change && change.q !== this.q
    const registryChanged = 'registry' in change && change.registry !== this.registry
    Object.assign(this, change)
    if (this.syncUrl) {
      history.replaceState(null, '', exploreHref({ registry: this.registry, q: this.q || undefined, sort: this.sort, page: this.page || undefined }))
    }
    void this.load()
    if (searchChanged || registryChanged) void this.loadUpstream()
  }

  private onInput(e: InputEvent): void {
    this.input = (e.target as HTMLInputElement).value
    clearTimeout(this.#debounce)
    this.#debounce = setTimeout(() => this.apply({ q: this.input.trim(), page: 0 }), SEARCH_DEBOUNCE_MS)
  }

  private async loadSidebar(): Promise<void> {
    if (!this.api) return
    try {
      const [configured, stats] = await Promise.all([
        this.api.get<{ registries: RegistrySummary[] }>('/api/v1/registries'),
        this.api.get<{ registries: RegistryStats[] }>('/api/v1/explore/registries'),
      ])
      // Seed: GET /explore/registries lists registries with packages; the configured list adds the
      // empty ones with a count of 0. Only registries the caller may explore are shown.
      const allowed = this.session ? new Set(this.session.explorable_registries) : undefined
      const counts = new Map(stats.registries.map((r) => [r.registry, r.package_count]))
      this.sidebar = configured.registries
        .filter((r) => !allowed || allowed.has(r.name) || counts.has(r.name))
        .map((r) => ({ name: r.name, type: r.type, count: counts.get(r.name) ?? 0 }))
      this.sidebarError = undefined
    } catch (err) {
      this.sidebarError = errorText(err)
    }
  }

  private async load(): Promise<void> {
    if (!this.api) return
    const seq = ++this.#seq
    this.loading = true
    try {
      const page = await this.api.get<ExplorePage>(`/api/v1/explore/packages${qs({ registry: this.registry, name: this.q || undefined, sort: this.sort, page: this.page, per_page: PER_PAGE })}`)
      if (seq !== this.#seq) return
      this.result = page
      this.error = undefined
    } catch (err) {
      if (seq !== this.#seq) return
      this.error = errorText(err)
      this.result = undefined
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  /** Upstream search for queries of two characters or more (seed "Upstream search"). */
  private async loadUpstream(): Promise<void> {
    const seq = ++this.#upSeq
    this.upstream = []
    if (!this.api || this.q.length < 2) {
      this.upstreamLoading = false
      return
    }
    this.upstreamLoading = true
    try {
      const res = await this.api.get<{ items: UpstreamHit[] }>(`/api/v1/explore/upstream${qs({ name: this.q, registry: this.registry, limit: 10 })}`)
      if (seq !== this.#upSeq) return
      this.upstream = res.items.filter((i) => !i.already_cached)
    } catch {
      // Seed: upstream search failures never disturb the cached results.
      if (seq === this.#upSeq) this.upstream = []
    } finally {
      if (seq === this.#upSeq) this.upstreamLoading = false
    }
  }

  private renderSidebar(): unknown {
    const total = this.sidebar?.reduce((a, r) => a + r.count, 0) ?? 0
    return html`<aside aria-label="Registries">
      <h2>Registries</h2>
      <ul class="reg-list">
        <li><button class="reg" aria-current=${this.registry === undefined ? 'true' : 'false'} @click=${() => this.apply({ registry: undefined, page: 0 })}>
          <span class="label"><span class="rname">All registries</span></span><span class="n">${count(total)}</span>
        </button></li>
        ${(this.sidebar ?? []).map((r) => html`<li><button class="reg" data-registry=${r.name} aria-current=${this.registry === r.name ? 'true' : 'false'} @click=${() => this.apply({ registry: r.name, page: 0 })}>
          <span class="label"><span class="rname">${r.name}</span><span class="rtype">${r.type}</span></span><span class="n">${count(r.count)}</span>
        </button></li>`)}
      </ul>
      ${this.sidebarError ? html`<p class="small muted" style="padding:0.5rem 0.6rem">${this.sidebarError}</p>` : nothing}
    </aside>`
  }

  private sourceBadge(p: ExplorePackage): unknown {
    const label = p.source === 'both' ? 'Both' : p.source === 'local' ? 'Local' : 'Proxied'
    return html`<span class="badges"><span class="badge ${p.source}">${label}</span>${p.has_blocked ? html`<span class="badge blocked" title="At least one version is blocked">Has blocked</span>` : nothing}</span>`
  }

  private renderRows(): unknown {
    const items = this.result?.items ?? []
    return items.map((p) => html`<tr data-package=${p.name}>
      <td class="name" data-label="Package"><a href=${packageHref(p.registry, p.name)}>${p.name}</a></td>
      <td data-label="Registry"><span class="reg-chip">${p.registry}</span></td>
      <td class="num" data-label="Versions">${count(p.version_count)}</td>
      <td class="num" data-label="Downloads">${count(p.total_downloads)}</td>
      <td data-label="Last accessed" class="hide-narrow"><span title=${dateTime(p.last_accessed)}>${relative(p.last_accessed)}</span></td>
      <td data-label="Source">${this.sourceBadge(p)}</td>
      <td data-label="Proxy">${p.source === 'local' ? html`<span class="badge local">Hosted</span>` : html`<span class="badge solid">Proxied</span>`}</td>
    </tr>`)
  }

  private renderUpstream(): unknown {
    if (this.upstreamLoading) return html`<tr class="section"><td colspan="7">Searching upstream registries…</td></tr>`
    if (this.upstream.length === 0) return nothing
    return html`<tr class="section"><td colspan="7">From upstream registries</td></tr>
      ${this.upstream.map((u) => html`<tr class="upstream" data-upstream=${u.name}>
        <td class="name" data-label="Package">${u.name}</td>
        <td data-label="Registry"><span class="reg-chip">${u.registry}</span></td>
        <td class="num mono" data-label="Latest">${u.latest_version ?? '—'}</td>
        <td class="num" data-label="Downloads">—</td>
        <td class="hide-narrow" data-label="Last accessed">—</td>
        <td class="desc" data-label="Description" title=${u.description ?? ''}><span>${u.description ?? ''}</span></td>
        <td data-label="Proxy"><span class="badge not-proxied">Not Yet Proxied</span></td>
      </tr>`)}`
  }

  private renderEmpty(): unknown {
    if (this.sidebar && this.sidebar.length === 0) {
      return html`<div class="state">${icons.lock('state-icon')}<h3>No registries to browse</h3>
        <p>${this.session?.role === 'anonymous' ? 'Sign in to browse the registries your role may explore.' : 'No registry is configured, or your role may not explore any of them.'}</p>
        ${this.session?.role === 'anonymous' ? html`<div class="actions"><a class="btn primary" href="/sign-in?next=/explore">Sign in</a></div>` : nothing}</div>`
    }
    if (this.q) {
      return html`<div class="state">${icons.search}<h3>No cached package matches “${this.q}”</h3>
        <p>${this.upstream.length || this.upstreamLoading ? 'Packages found upstream are listed below: install one through the hub to cache it.' : 'Try another name, or install the package through the hub first.'}</p></div>`
    }
    return html`<div class="state">${icons.box('state-icon')}<h3>No packages yet</h3>
      <p>Packages appear here after their first download through BatleHub, or when they are published to a local registry.</p>
      <div class="actions"><a class="btn" href="/setup">Open the Setup Guide</a></div></div>`
  }

  override render(): unknown {
    const r = this.result
    const pages = r ? Math.max(1, Math.ceil(r.total / r.per_page)) : 1
    const first = r && r.total ? r.page * r.per_page + 1 : 0
    const last = r ? Math.min(r.total, (r.page + 1) * r.per_page) : 0
    const hasRows = (r?.items.length ?? 0) > 0 || this.upstream.length > 0 || this.upstreamLoading
    return html`
      <div class="page-head">
        <div><h1>Package Explorer</h1><p>Every package BatleHub has proxied or hosts, one row per package.</p></div>
      </div>
      <div class="layout">
        ${this.renderSidebar()}
        <section class="card" aria-label="Packages">
          <div class="toolbar">
            <div class="search">${icons.search}
              <label class="sr-only" for="q">Search packages</label>
              <input id="q" type="search" placeholder="Search packages by name…" autocomplete="off" spellcheck="false" .value=${this.input} @input=${this.onInput}>
            </div>
            <div class="sort"><label for="sort">Sort</label>
              <select id="sort" @change=${(e: Event) => this.apply({ sort: (e.target as HTMLSelectElement).value as Sort, page: 0 })}>
                ${SORTS.map((s) => html`<option value=${s.value} ?selected=${s.value === this.sort}>${s.label}</option>`)}
              </select>
            </div>
          </div>
          <div class="summary">
            <span>${this.loading && !r ? 'Loading…' : r ? (r.total ? html`Showing <b>${count(first)}–${count(last)}</b> of <b>${count(r.total)}</b> package${r.total === 1 ? '' : 's'}${this.registry ? html` in <b>${this.registry}</b>` : nothing}` : 'No packages') : ''}</span>
            ${r?.upstream_unavailable ? html`<span class="notice warn" role="status">${icons.alert()} Database unreachable: results may be incomplete</span>` : nothing}
          </div>
          ${this.error
            ? html`<div class="state error" role="alert">${icons.alert('state-icon')}<h3>Could not load packages</h3><p>${this.error}</p>
                <div class="actions"><button class="btn" @click=${() => this.load()}>Try again</button></div></div>`
            : !r && this.loading
              ? html`<div class="loading"><span class="spinner"></span>Loading packages…</div>`
              : html`
                ${r && r.items.length === 0 ? this.renderEmpty() : nothing}
                ${hasRows ? html`<div class="table-wrap"><table class="responsive">
                  <thead><tr><th>Package</th><th>Registry</th><th class="num">Versions</th><th class="num">Downloads</th><th class="hide-narrow">Last accessed</th><th>Source</th><th>Proxy</th></tr></thead>
                  <tbody>${this.renderRows()}${this.renderUpstream()}</tbody>
                </table></div>` : nothing}`}
          ${r && r.total > r.per_page ? html`<nav class="pager" aria-label="Pages">
            <span>Page ${r.page + 1} of ${pages}</span>
            <span class="btns">
              <button class="btn small" ?disabled=${r.page === 0} @click=${() => this.apply({ page: this.page - 1 })}>${icons.chevronLeft}Previous</button>
              <button class="btn small" ?disabled=${r.page + 1 >= pages} @click=${() => this.apply({ page: this.page + 1 })}>Next${icons.chevronRight}</button>
            </span>
          </nav>` : nothing}
        </section>
      </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-explorer-page': BhExplorerPage
  }
}
