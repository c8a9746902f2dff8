import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { count, dateTime, relative } from '../format.ts'
import { ApiError, qs, type ApiClient, type RegistrySummary } from '../api.ts'
import { packageHref } from '../router.ts'

export interface BlockedVersion {
  registry: string
  name: string
  version: string
  reason: string | null
  blocked_by: string | null
  blocked_at: string
}

export interface AuditEntry {
  id: string
  timestamp: string
  registry: string | null
  action: string
  package: string | null
  version: string | null
  user_id: string
  role: string
  outcome: 'allow' | 'deny'
  rule: string | null
  reason: string | null
  ip: string | null
}

function message(err: unknown): string {
  return err instanceof ApiError && err.status === 0 ? 'The server could not be reached.' : (err as Error)?.message ?? String(err)
}

const PAGE = 50

/** The firewall (seed "Block a package version"): blocked versions, block and unblock, bulk block. */
@customElement('bh-admin-firewall')
export class BhAdminFirewall extends LitElement {
  static override styles = [...shared, css`
    :host { display: grid; gap: 1.25rem; }
    form.block { display: grid; grid-template-columns: minmax(8rem, 1fr) minmax(10rem, 2fr) minmax(7rem, 1fr) minmax(10rem, 2fr) auto; gap: 0.75rem; align-items: end; }
    form.block .field { margin: 0; }
    .filters { display: flex; gap: 0.6rem; flex-wrap: wrap; align-items: center; padding: 0.8rem 1rem; border-bottom: 1px solid var(--bh-border); }
    .filters input, .filters select { width: auto; min-width: 12rem; }
    .pager { display: flex; justify-content: space-between; align-items: center; padding: 0.6rem 1rem; border-top: 1px solid var(--bh-border); font-size: 0.85rem; color: var(--bh-muted); }
    .pager .btns { display: flex; gap: 0.4rem; }
    details summary { cursor: pointer; font-weight: 600; }
    details textarea { font-family: var(--bh-mono); min-height: 7rem; }
    .bulk { display: grid; gap: 0.75rem; margin-top: 0.9rem; }
    .bulk .row { display: grid; grid-template-columns: minmax(8rem, 1fr) minmax(10rem, 3fr) auto; gap: 0.75rem; align-items: end; }
    .bulk .field { margin: 0; }
    td.reason { max-width: 24rem; }
    @media (max-width: 900px) {
      form.block, .bulk .row { grid-template-columns: 1fr; }
    }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @state() accessor registries: RegistrySummary[] = []
  @state() accessor items: BlockedVersion[] = []
  @state() accessor total = 0
  @state() accessor offset = 0
  @state() accessor filterRegistry = ''
  @state() accessor filterName = ''
  @state() accessor loading = false
  @state() accessor error: string | undefined
  @state() accessor status: { ok: boolean; text: string } | undefined
  #debounce: ReturnType<typeof setTimeout> | undefined

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api') && this.api) {
      this.api.get<{ registries: RegistrySummary[] }>('/api/v1/registries').then((r) => (this.registries = r.registries), () => {})
      void this.load()
    }
  }

  async load(): Promise<void> {
    if (!this.api) return
    this.loading = true
    try {
      const res = await this.api.get<{ total: number; items: BlockedVersion[] }>(`/api/v1/admin/packages/blocked${qs({ registry: this.filterRegistry, name: this.filterName.trim(), limit: PAGE, offset: this.offset })}`)
      this.items = res.items
      this.total = res.total
      this.error = undefined
    } catch (err) {
      this.error = message(err)
    } finally {
      this.loading = false
    }
  }

  private field(form: HTMLFormElement, name: string): string {
    return ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim()
  }

  private async block(e: Event): Promise<void> {
    e.preventDefault()
    if (!this.api) return
    const form = e.target as HTMLFormElement
    const body = { registry: this.field(form, 'registry'), name: this.field(form, 'name'), version: this.field(form, 'version'), reason: this.field(form, 'reason') || undefined }
    try {
      const res = await this.api.send<BlockedVersion & { created: boolean }>('POST', '/api/v1/admin/packages/block', body)
      this.status = { ok: true, text: `${res.created ? 'Blocked' : 'Updated the block of'} ${res.name}@${res.version} on ${res.registry}.` }
      form.reset()
      this.offset = 0
      await this.load()
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  private async unblock(b: BlockedVersion): Promise<void> {
    if (!this.api) return
    try {
      await this.api.send('POST', '/api/v1/admin/packages/unblock', { registry: b.registry, name: b.name, version: b.version })
      this.status = { ok: true, text: `Unblocked ${b.name}@${b.version} on ${b.registry}.` }
      await this.load()
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  /** Lines of `name@version` (the last `@` splits, so `@scope/name@1.0.0` works). */
  private async bulk(e: Event): Promise<void> {
    e.preventDefault()
    if (!this.api) return
    const form = e.target as HTMLFormElement
    const registry = this.field(form, 'registry')
    const reason = this.field(form, 'reason') || undefined
    const lines = this.field(form, 'lines').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
    const bad = lines.filter((l) => l.lastIndexOf('@') <= 0)
    if (bad.length || lines.length === 0) {
      this.status = { ok: false, text: bad.length ? `Not name@version: ${bad.join(', ')}` : 'Enter one name@version per line.' }
      return
    }
    const packages = lines.map((l) => ({ registry, name: l.slice(0, l.lastIndexOf('@')), version: l.slice(l.lastIndexOf('@') + 1) }))
    try {
      const res = await this.api.send<{ processed: number; succeeded: number; failed: Array<{ name: string; version: string; error: string }> }>('POST', '/api/v1/admin/packages/bulk-block', { packages, ...(reason ? { reason } : {}) })
      this.status = res.failed.length
        ? { ok: false, text: `Blocked ${res.succeeded} of ${res.processed}; failed: ${res.failed.map((f) => `${f.name}@${f.version} (${f.error})`).join('; ')}` }
        : { ok: true, text: `Blocked ${res.succeeded} version${res.succeeded === 1 ? '' : 's'} on ${registry}.` }
      if (!res.failed.length) form.reset()
      this.offset = 0
      await this.load()
    } catch (err) {
      this.status = { ok: false, text: message(err) }
    }
  }

  private onFilter(): void {
    clearTimeout(this.#debounce)
    this.#debounce = setTimeout(() => {
      this.offset = 0
      void this.load()
    }, 300)
  }

  private registrySelect(name: string, id: string): unknown {
    return html`<select name=${name} id=${id} required>
      ${this.registries.map((r) => html`<option value=${r.name}>${r.name} (${r.type})</option>`)}
    </select>`
  }

  override render(): unknown {
    return html`
      <section class="card"><div class="card-body">
        <h3 style="margin-bottom:0.9rem">Block a version</h3>
        <form class="block" @submit=${this.block}>
          <div class="field"><label for="fw-registry">Registry</label>${this.registrySelect('registry', 'fw-registry')}</div>
          <div class="field"><label for="fw-name">Package</label><input id="fw-name" name="name" type="text" placeholder="lodash" required autocomplete="off" spellcheck="false"></div>
          <div class="field"><label for="fw-version">Version</label><input id="fw-version" name="version" type="text" placeholder="4.17.20" required autocomplete="off" spellcheck="false"></div>
          <div class="field"><label for="fw-reason">Reason</label><input id="fw-reason" name="reason" type="text" placeholder="CVE-2021-23337" autocomplete="off"></div>
          <button class="btn primary" type="submit" id="block">Block</button>
        </form>
        <details style="margin-top:1rem"><summary>Block many versions</summary>
          <form class="bulk" @submit=${this.bulk}>
            <div class="field"><label for="bulk-lines">One <code>name@version</code> per line</label><textarea id="bulk-lines" name="lines" placeholder=${'bad-pkg@1.0.0\n@scope/other@2.1.0'} spellcheck="false"></textarea></div>
            <div class="row">
              <div class="field"><label for="bulk-registry">Registry</label>${this.registrySelect('registry', 'bulk-registry')}</div>
              <div class="field"><label for="bulk-reason">Reason</label><input id="bulk-reason" name="reason" type="text" autocomplete="off"></div>
              <button class="btn" type="submit" id="bulk-block">Block all</button>
            </div>
          </form>
        </details>
        ${this.status ? html`<p class="notice ${this.status.ok ? 'info' : 'error'}" role="status" style="margin-top:1rem">${this.status.text}</p>` : nothing}
      </div></section>
      <section class="card" aria-label="Blocked versions">
        <div class="card-header"><h2>Blocked versions</h2><span class="small muted">${count(this.total)} in total</span></div>
        <div class="filters">
          <select aria-label="Registry" @change=${(e: Event) => { this.filterRegistry = (e.target as HTMLSelectElement).value; this.offset = 0; void this.load() }}>
            <option value="">All registries</option>
            ${this.registries.map((r) => html`<option value=${r.name}>${r.name}</option>`)}
          </select>
          <input type="search" aria-label="Package name" placeholder="Package name…" .value=${this.filterName} @input=${(e: Event) => { this.filterName = (e.target as HTMLInputElement).value; this.onFilter() }}>
        </div>
        ${this.error
          ? html`<div class="state error" role="alert">${icons.alert('state-icon')}<h3>Could not load the blocklist</h3><p>${this.error}</p><div class="actions"><button class="btn" @click=${() => this.load()}>Try again</button></div></div>`
          : this.items.length === 0
            ? html`<div class="state">${icons.lock('state-icon')}<h3>${this.loading ? 'Loading…' : 'No blocked versions'}</h3><p>${this.loading ? '' : 'Blocked versions get 403 for everyone, admins included, and disappear from listings.'}</p></div>`
            : html`<div class="table-wrap"><table class="responsive">
              <thead><tr><th>Package</th><th>Version</th><th>Registry</th><th>Reason</th><th>Blocked by</th><th>Blocked</th><th></th></tr></thead>
              <tbody>${this.items.map((b) => html`<tr data-block=${`${b.registry}/${b.name}@${b.version}`}>
                <td class="name" data-label="Package"><a href=${packageHref(b.registry, b.name)}>${b.name}</a></td>
                <td class="mono" data-label="Version">${b.version}</td>
                <td data-label="Registry">${b.registry}</td>
                <td class="reason" data-label="Reason">${b.reason ?? html`<span class="muted">—</span>`}</td>
                <td data-label="Blocked by">${b.blocked_by ?? '—'}</td>
                <td data-label="Blocked"><span title=${dateTime(b.blocked_at)}>${relative(b.blocked_at)}</span></td>
                <td><button class="btn small" @click=${() => this.unblock(b)}>Unblock</button></td>
              </tr>`)}</tbody>
            </table></div>
            ${this.total > PAGE ? html`<div class="pager"><span>${count(this.offset + 1)}–${count(Math.min(this.total, this.offset + PAGE))} of ${count(this.total)}</span>
              <span class="btns">
                <button class="btn small" ?disabled=${this.offset === 0} @click=${() => { this.offset = Math.max(0, this.offset - PAGE); void this.load() }}>${icons.chevronLeft}Previous</button>
                <button class="btn small" ?disabled=${this.offset + PAGE >= this.total} @click=${() => { this.offset += PAGE; void this.load() }}>Next${icons.chevronRight}</button>
              </span></div>` : nothing}`}
      </section>`
  }
}

/** The audit log (seed "Audit log"): every access-control decision, newest first. */
@customElement('bh-admin-audit')
export class BhAdminAudit extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .filters { display: flex; gap: 0.6rem; flex-wrap: wrap; align-items: center; padding: 0.8rem 1rem; border-bottom: 1px solid var(--bh-border); }
    .filters input, .filters select { width: auto; min-width: 10rem; }
    .more { display: flex; justify-content: center; padding: 0.8rem; border-top: 1px solid var(--bh-border); }
    td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
    td.why { max-width: 22rem; color: var(--bh-text-2); }
    .badge.allow { background: var(--bh-green-soft); color: var(--bh-green); border-color: #bbf7d0; }
    .badge.deny { background: var(--bh-red-soft); color: var(--bh-red); border-color: #fecaca; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @state() accessor registries: RegistrySummary[] = []
  @state() accessor entries: AuditEntry[] = []
  @state() accessor registry = ''
  @state() accessor outcome = ''
  @state() accessor user = ''
  @state() accessor pkg = ''
  @state() accessor more = false
  @state() accessor loading = false
  @state() accessor error: string | undefined
  #debounce: ReturnType<typeof setTimeout> | undefined
  #seq = 0

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api') && this.api) {
      this.api.get<{ registries: RegistrySummary[] }>('/api/v1/registries').then((r) => (this.registries = r.registries), () => {})
      void this.load()
    }
  }

  /** Loads the newest entries, or (with `older`) the page before the last one shown. */
  async load(older = false): Promise<void> {
    if (!this.api) return
    const seq = ++this.#seq
    this.loading = true
    const before = older ? this.entries.at(-1)?.id : undefined
    try {
      const rows = await this.api.get<AuditEntry[]>(`/api/v1/admin/audit-log${qs({ registry: this.registry, outcome: this.outcome, user: this.user.trim(), package: this.pkg.trim(), before, limit: PAGE })}`)
      if (seq !== this.#seq) return
      this.entries = older ? [...this.entries, ...rows] : rows
      this.more = rows.length === PAGE
      this.error = undefined
    } catch (err) {
      if (seq === this.#seq) this.error = message(err)
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  private filter(change: Partial<Pick<BhAdminAudit, 'registry' | 'outcome' | 'user' | 'pkg'>>, debounce = false): void {
    Object.assign(this, change)
    clearTimeout(this.#debounce)
    if (debounce) this.#debounce = setTimeout(() => void this.load(), 300)
    else void this.load()
  }

  override render(): unknown {
    return html`<section class="card" aria-label="Audit log">
      <div class="card-header"><h2>Decisions</h2><span class="small muted">newest first</span></div>
      <div class="filters">
        <select aria-label="Registry" @change=${(e: Event) => this.filter({ registry: (e.target as HTMLSelectElement).value })}>
          <option value="">All registries</option>
          ${this.registries.map((r) => html`<option value=${r.name}>${r.name}</option>`)}
        </select>
        <select aria-label="Outcome" id="outcome" @change=${(e: Event) => this.filter({ outcome: (e.target as HTMLSelectElement).value })}>
          <option value="">Allowed and denied</option><option value="allow">Allowed</option><option value="deny">Denied</option>
        </select>
        <input type="search" aria-label="User" placeholder="User id…" @input=${(e: Event) => this.filter({ user: (e.target as HTMLInputElement).value }, true)}>
        <input type="search" aria-label="Package" placeholder="Package…" @input=${(e: Event) => this.filter({ pkg: (e.target as HTMLInputElement).value }, true)}>
      </div>
      ${this.error
        ? html`<div class="state error" role="alert">${icons.alert('state-icon')}<h3>Could not load the audit log</h3><p>${this.error}</p><div class="actions"><button class="btn" @click=${() => this.load()}>Try again</button></div></div>`
        : this.entries.length === 0
          ? html`<div class="state"><h3>${this.loading ? 'Loading…' : 'No decisions recorded'}</h3><p>${this.loading ? '' : 'Every download, listing and refusal through the hub is recorded here.'}</p></div>`
          : html`<div class="table-wrap"><table class="responsive">
            <thead><tr><th>When</th><th>Outcome</th><th>Registry</th><th>Package</th><th>User</th><th>Action</th><th>Rule / reason</th><th>Address</th></tr></thead>
            <tbody>${this.entries.map((a) => html`<tr data-audit=${a.id}>
              <td class="when" data-label="When"><span title=${dateTime(a.timestamp)}>${relative(a.timestamp)}</span></td>
              <td data-label="Outcome"><span class="badge ${a.outcome}">${a.outcome === 'allow' ? 'Allowed' : 'Denied'}</span></td>
              <td data-label="Registry">${a.registry ?? '—'}</td>
              <td class="name" data-label="Package">${a.package ? html`${a.package}${a.version ? html`<span class="muted">@${a.version}</span>` : nothing}` : '—'}</td>
              <td data-label="User">${a.user_id} <span class="badge neutral">${a.role}</span></td>
              <td data-label="Action">${a.action}</td>
              <td class="why" data-label="Rule">${a.rule ? html`<code>${a.rule}</code>` : nothing}${a.reason ? html` ${a.reason}` : a.rule ? nothing : html`<span class="muted">—</span>`}</td>
              <td class="mono" data-label="Address">${a.ip ?? '—'}</td>
            </tr>`)}</tbody>
          </table></div>
          ${this.more ? html`<div class="more"><button class="btn" id="older" ?disabled=${this.loading} @click=${() => this.load(true)}>Load older entries</button></div>` : nothing}`}
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-admin-firewall': BhAdminFirewall
    'bh-admin-audit': BhAdminAudit
  }
}
