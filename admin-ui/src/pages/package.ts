import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { count, dateTime, relative } from '../format.ts'
import { ApiError, packagePath, type ApiClient, type ExploreVersion, type PackageDetail, type RegistrySummary, type WhoAmI } from '../api.ts'
import { exploreHref } from '../router.ts'
import '../components/slot-host.ts'

/**
 * A package's detail page (`/explore/packages/{registry}/{name}`): the access gate card, every
 * known version with its source and firewall status, and the plugin sidebar slot.
 */
@customElement('bh-package-page')
export class BhPackagePage extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .crumbs { font-size: 0.85rem; color: var(--bh-muted); margin-bottom: 0.6rem; display: flex; gap: 0.4rem; flex-wrap: wrap; }
    .crumbs a { color: var(--bh-muted); }
    h1.pkg { font-family: var(--bh-mono); font-size: 1.55rem; font-weight: 650; word-break: break-all; }
    .meta { display: flex; gap: 0.5rem; align-items: center; margin-top: 0.5rem; flex-wrap: wrap; }
    .layout { display: grid; grid-template-columns: minmax(0, 1fr) 19rem; gap: 1.5rem; align-items: start; }
    .side { display: flex; flex-direction: column; gap: 1rem; }
    .gate { list-style: none; margin: 0; padding: 0; }
    .gate li { display: flex; gap: 0.7rem; padding: 0.75rem 1.1rem; border-top: 1px solid var(--bh-border); }
    .gate li:first-child { border-top: none; }
    .gate .mark { flex: none; width: 1.6rem; height: 1.6rem; border-radius: 50%; display: grid; place-items: center; }
    .gate .mark svg { width: 15px; height: 15px; }
    .gate .ok .mark { background: var(--bh-green-soft); color: var(--bh-green); }
    .gate .no .mark { background: var(--bh-red-soft); color: var(--bh-red); }
    .gate .off .mark { background: #f1f5f9; color: var(--bh-muted); }
    .gate b { display: block; font-size: 0.9rem; }
    .gate span.text { font-size: 0.82rem; color: var(--bh-muted); }
    .kv { display: grid; grid-template-columns: auto 1fr; gap: 0.4rem 0.9rem; font-size: 0.88rem; }
    .kv dt { color: var(--bh-muted); }
    .kv dd { margin: 0; word-break: break-all; }
    td.version { font-family: var(--bh-mono); font-weight: 600; }
    td.version.pre { font-style: italic; font-weight: 500; }
    td.version .badge { margin-left: 0.45rem; font-family: var(--bh-font); }
    .fw { position: relative; display: inline-block; }
    .fw .tip {
      display: none; position: absolute; z-index: 5; left: 0; top: calc(100% + 6px); min-width: 15rem; max-width: 20rem;
      background: #0f172a; color: #e2e8f0; border-radius: var(--bh-radius-sm); padding: 0.6rem 0.75rem; box-shadow: var(--bh-shadow-lg);
      font-size: 0.8rem; line-height: 1.45; white-space: normal;
    }
    .fw .tip dl { display: grid; grid-template-columns: auto 1fr; gap: 0.2rem 0.6rem; margin: 0; }
    .fw .tip dt { color: #94a3b8; }
    .fw .tip dd { margin: 0; }
    .fw:hover .tip, .fw:focus-within .tip { display: block; }
    .fw .badge[tabindex] { cursor: help; }
    .block-form { display: flex; gap: 0.35rem; align-items: center; }
    .block-form input { height: 1.85rem; width: 9rem; font-size: 0.82rem; }
    td.actions { text-align: right; white-space: nowrap; }
    /* The firewall tooltip must not be clipped by the table's scroll box (the table fits the card). */
    .versions .table-wrap { overflow: visible; }
    .counts { display: flex; gap: 1.25rem; font-size: 0.85rem; color: var(--bh-muted); }
    .counts b { color: var(--bh-text); font-variant-numeric: tabular-nums; }
    @media (max-width: 960px) {
      .layout { grid-template-columns: minmax(0, 1fr); }
    }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  /** The signed-in identity: admins get Block / Unblock on each version. */
  @property({ attribute: false }) accessor session: WhoAmI | undefined
  @property() accessor registry = ''
  @property({ attribute: 'package-name' }) accessor packageName = ''

  @state() accessor detail: PackageDetail | undefined
  @state() accessor info: RegistrySummary | undefined
  @state() accessor error: { status: number; message: string } | undefined
  @state() accessor loading = false
  /** The version whose block reason is being entered. */
  @state() accessor blocking: string | undefined
  @state() accessor actionError: string | undefined
  #seq = 0

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api') || changed.has('registry') || changed.has('packageName')) void this.load()
  }

  private async load(): Promise<void> {
    if (!this.api || !this.registry || !this.packageName) return
    const seq = ++this.#seq
    this.loading = true
    this.error = undefined
    try {
      const [detail, regs] = await Promise.all([
        this.api.get<PackageDetail>(packagePath(this.registry, this.packageName)),
        this.api.get<{ registries: RegistrySummary[] }>('/api/v1/registries').catch(() => ({ registries: [] as RegistrySummary[] })),
      ])
      if (seq !== this.#seq) return
      this.detail = detail
      this.info = regs.registries.find((r) => r.name === this.registry)
    } catch (err) {
      if (seq !== this.#seq) return
      this.detail = undefined
      this.error = err instanceof ApiError
        ? { status: err.status, message: err.status === 0 ? 'The server could not be reached.' : err.message }
        : { status: 0, message: String(err) }
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  private async setBlocked(v: ExploreVersion, block: boolean, reason?: string): Promise<void> {
    if (!this.api || !this.detail) return
    try {
      const ref = { registry: this.detail.registry, name: this.detail.name, version: v.version }
      await this.api.send('POST', block ? '/api/v1/admin/packages/block' : '/api/v1/admin/packages/unblock', block ? { ...ref, ...(reason ? { reason } : {}) } : ref)
      this.blocking = undefined
      this.actionError = undefined
      await this.load()
    } catch (err) {
      this.actionError = err instanceof ApiError ? err.message : String(err)
    }
  }

  private actions(v: ExploreVersion): unknown {
    if (v.firewall.status === 'blocked') return html`<button class="btn small" data-action="unblock" @click=${() => this.setBlocked(v, false)}>Unblock</button>`
    if (this.blocking === v.version) {
      return html`<form class="block-form" @submit=${(e: Event) => {
        e.preventDefault()
        void this.setBlocked(v, true, ((e.target as HTMLFormElement).elements.namedItem('reason') as HTMLInputElement).value.trim())
      }}><input name="reason" type="text" placeholder="Reason" aria-label="Reason" autocomplete="off">
        <button class="btn small danger" type="submit" data-action="confirm-block">Block</button>
        <button class="btn small ghost" type="button" @click=${() => (this.blocking = undefined)}>Cancel</button></form>`
    }
    return html`<button class="btn small" data-action="block" @click=${() => (this.blocking = v.version)}>Block…</button>`
  }

  private firewall(v: ExploreVersion): unknown {
    const f = v.firewall
    if (f.status === 'blocked') {
      return html`<span class="fw"><span class="badge blocked" tabindex="0" aria-describedby="tip-${v.version}">Blocked</span>
        <span class="tip" role="tooltip" id="tip-${v.version}"><dl>
          <dt>Reason</dt><dd>${f.reason || 'No reason given'}</dd>
          <dt>Blocked by</dt><dd>${f.blocked_by || 'unknown'}</dd>
          <dt>Blocked at</dt><dd>${dateTime(f.blocked_at)}</dd>
        </dl></span></span>`
    }
    if (f.status === 'yanked') {
      return html`<span class="fw"><span class="badge yanked" tabindex="0">Yanked</span>
        <span class="tip" role="tooltip"><dl><dt>Yanked</dt><dd>${f.reason || 'Withdrawn by its publisher after release'}</dd></dl></span></span>`
    }
    return html`<span class="badge clear">Clear</span>`
  }

  private renderGate(d: PackageDetail): unknown {
    const beta = d.gate.beta_channel_enabled === false
      ? { cls: 'off', title: 'No beta channel', text: 'This registry does not gate pre-releases; everyone sees them.' }
      : d.gate.beta_member
        ? { cls: 'ok', title: 'Beta channel member', text: 'Pre-release versions are visible to you.' }
        : { cls: 'off', title: 'Not a beta channel member', text: 'Pre-release versions are hidden from you.' }
    return html`<section class="card" aria-label="Access gate">
      <div class="card-header"><h3>Access gate</h3><span class="small muted">your current session</span></div>
      <ul class="gate">
        <li class=${d.gate.registry_accessible ? 'ok' : 'no'} data-check="registry">
          <span class="mark">${d.gate.registry_accessible ? icons.check : icons.x}</span>
          <span><b>${d.gate.registry_accessible ? 'Registry access' : 'No registry access'}</b>
          <span class="text">${d.gate.registry_accessible ? 'Your role can proxy from this registry.' : 'Your role cannot access this registry.'}</span></span>
        </li>
        <li class=${beta.cls} data-check="beta">
          <span class="mark">${beta.cls === 'ok' ? icons.check : icons.minus}</span>
          <span><b>${beta.title}</b><span class="text">${beta.text}</span></span>
        </li>
      </ul>
    </section>`
  }

  override render(): unknown {
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/explore">Explore</a><span>/</span><a href=${exploreHref({ registry: this.registry })}>${this.registry}</a><span>/</span><span>${this.packageName}</span></nav>`
    if (this.error) {
      return html`${crumbs}<div class="card"><div class="state ${this.error.status === 404 ? '' : 'error'}" role=${this.error.status === 404 ? 'status' : 'alert'}>
        ${this.error.status === 404 ? icons.box('state-icon') : icons.alert('state-icon')}
        <h3>${this.error.status === 404 ? 'Package not found' : 'Could not load this package'}</h3>
        <p>${this.error.status === 404 ? html`BatleHub knows no package <code>${this.packageName}</code> in <b>${this.registry}</b>, or your role may not explore this registry.` : this.error.message}</p>
        <div class="actions"><a class="btn" href="/explore">Back to the explorer</a>${this.error.status !== 404 ? html`<button class="btn" @click=${() => this.load()}>Try again</button>` : nothing}</div>
      </div></div>`
    }
    const d = this.detail
    if (!d) return html`${crumbs}<div class="loading"><span class="spinner"></span>Loading package…</div>`
    const sources = new Set(d.versions.map((v) => v.source))
    const source = sources.size === 2 ? 'both' : sources.has('local') ? 'local' : 'proxied'
    const downloads = d.versions.reduce((a, v) => a + v.download_count, 0)
    const admin = this.session?.role === 'admin'
    const blocked = d.versions.filter((v) => v.firewall.status === 'blocked').length
    const registry = this.info
      ? { name: this.info.name, type: this.info.type, mode: this.info.mode, url: new URL(this.info.url, location.origin).href }
      : { name: d.registry, type: '', mode: 'proxy' as const, url: new URL(`/proxy/${d.registry}/`, location.origin).href }
    return html`${crumbs}
      <div class="page-head">
        <div>
          <h1 class="pkg">${d.name}</h1>
          <div class="meta">
            <span class="badge neutral">${d.registry}${this.info ? html` · ${this.info.type}` : nothing}</span>
            <span class="badge ${source}">${source === 'both' ? 'Both' : source === 'local' ? 'Local' : 'Proxied'}</span>
            ${blocked ? html`<span class="badge blocked">Has blocked</span>` : nothing}
          </div>
        </div>
        <div class="counts"><span><b>${count(d.versions.length)}</b> version${d.versions.length === 1 ? '' : 's'}</span><span><b>${count(downloads)}</b> downloads</span></div>
      </div>
      ${d.upstream_unavailable ? html`<p class="notice warn" role="status" style="margin-bottom:1rem">${icons.alert()} The database is unreachable and this package was not cached: versions cannot be shown right now.</p>` : nothing}
      <div class="layout">
        <section class="card versions" aria-label="Versions">
          <div class="card-header"><h2>Versions</h2></div>
          ${this.actionError ? html`<p class="notice error" role="alert" style="margin:0.75rem 1rem 0">${this.actionError}</p>` : nothing}
          ${d.versions.length === 0
            ? html`<div class="state"><h3>No versions to show</h3><p>${d.gate.beta_member ? 'No version of this package is known yet.' : 'Only pre-release versions exist, and they are hidden from you.'}</p></div>`
            : html`<div class="table-wrap"><table class="responsive">
              <thead><tr><th>Version</th><th>Source</th><th>Firewall</th><th class="num">Downloads</th><th>Last accessed</th><th>Published</th>${admin ? html`<th><span class="sr-only">Actions</span></th>` : nothing}</tr></thead>
              <tbody>${d.versions.map((v) => html`<tr data-version=${v.version}>
                <td class="version ${v.is_prerelease ? 'pre' : ''}" data-label="Version">${v.version}${v.is_prerelease ? html`<span class="badge prerelease">pre-release</span>` : nothing}</td>
                <td data-label="Source"><span class="badge ${v.source}">${v.source === 'local' ? 'Local' : 'Proxied'}</span></td>
                <td data-label="Firewall">${this.firewall(v)}</td>
                <td class="num" data-label="Downloads">${count(v.download_count)}</td>
                <td data-label="Last accessed"><span title=${dateTime(v.last_accessed)}>${relative(v.last_accessed)}</span></td>
                <td data-label="Published"><span title=${dateTime(v.published_at)}>${v.published_at ? dateTime(v.published_at).slice(0, 10) : '—'}</span></td>
                ${admin ? html`<td class="actions">${this.actions(v)}</td>` : nothing}
              </tr>`)}</tbody>
            </table></div>`}
        </section>
        <div class="side">
          ${this.renderGate(d)}
          <section class="card" aria-label="Registry">
            <div class="card-header"><h3>Registry</h3></div>
            <div class="card-body"><dl class="kv">
              <dt>Name</dt><dd>${d.registry}</dd>
              ${this.info ? html`<dt>Type</dt><dd>${this.info.type}</dd><dt>Mode</dt><dd>${this.info.mode}</dd>` : nothing}
              <dt>URL</dt><dd><code>${registry.url}</code></dd>
            </dl>
            <p class="small muted" style="margin-top:0.75rem"><a href="/setup">Client setup for this registry →</a></p></div>
          </section>
          <bh-slot name="package.sidebar" registry-type=${this.info?.type ?? ''} .props=${{ registry, packageName: d.name, versions: d.versions }}></bh-slot>
        </div>
      </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-package-page': BhPackagePage
  }
}
