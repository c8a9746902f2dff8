import { LitElement, css, html, nothing } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { shared } from '../styles.ts'
import { icons } from '../icons.ts'
import { ApiError, type ApiClient, type SetupGuide, type SetupRegistry, type WhoAmI } from '../api.ts'
import '../components/code-block.ts'
import '../components/slot-host.ts'

const MODE_TEXT: Record<SetupRegistry['mode'], string> = {
  proxy: 'Proxy: installs from the upstream, cached here',
  local: 'Local: packages published to BatleHub only',
  hybrid: 'Hybrid: local packages first, then the upstream',
}

/**
 * The Setup Guide (`/setup`): ready-to-paste client configuration for every configured registry,
 * filled with this server's address; each snippet comes from the registry's plugin.
 */
@customElement('bh-setup-page')
export class BhSetupPage extends LitElement {
  static override styles = [...shared, css`
    :host { display: block; }
    .intro { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 1rem; align-items: center; padding: 1rem 1.1rem; margin-bottom: 1.25rem; }
    .intro code { background: var(--bh-surface-2); border: 1px solid var(--bh-border); padding: 0.1rem 0.35rem; border-radius: 4px; }
    .filters { display: flex; gap: 0.4rem; flex-wrap: wrap; margin-bottom: 1rem; }
    .chip { border: 1px solid var(--bh-border-strong); background: var(--bh-surface); border-radius: 999px; padding: 0.25rem 0.75rem; font: inherit; font-size: 0.85rem; cursor: pointer; color: var(--bh-text-2); }
    .chip[aria-pressed='true'] { background: var(--bh-text); border-color: var(--bh-text); color: #fff; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr)); gap: 1.25rem; }
    .reg-head { display: flex; flex-direction: column; gap: 0.35rem; min-width: 0; }
    .reg-head .title { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
    .reg-head h2 { font-family: var(--bh-mono); font-size: 1.05rem; }
    .url { font-family: var(--bh-mono); font-size: 0.8rem; color: var(--bh-muted); word-break: break-all; }
    .tabs { display: flex; gap: 0.25rem; padding: 0 1.1rem; border-bottom: 1px solid var(--bh-border); }
    .tab { border: none; background: none; font: inherit; font-size: 0.88rem; padding: 0.6rem 0.6rem; color: var(--bh-muted); cursor: pointer; border-bottom: 2px solid transparent; margin-bottom: -1px; }
    .tab[aria-selected='true'] { color: var(--bh-primary-strong); border-bottom-color: var(--bh-primary); font-weight: 600; }
    .snippets { display: flex; flex-direction: column; gap: 0.85rem; padding: 1rem 1.1rem; }
    .notice { margin: 1rem 1.1rem 0; }
  `]

  @property({ attribute: false }) accessor api: ApiClient | undefined
  @property({ attribute: false }) accessor session: WhoAmI | undefined
  @state() accessor guide: SetupGuide | undefined
  @state() accessor error: string | undefined
  @state() accessor type: string | undefined
  @state() accessor tabs: Record<string, 'install' | 'publish'> = {}

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('api') || changed.has('session')) void this.load()
  }

  private async load(): Promise<void> {
    if (!this.api) return
    try {
      this.guide = await this.api.get<SetupGuide>('/api/v1/setup')
      this.error = undefined
    } catch (err) {
      this.error = err instanceof ApiError && err.status === 0 ? 'The server could not be reached.' : (err as Error).message
    }
  }

  private renderRegistry(r: SetupRegistry, serverUrl: string): unknown {
    const canPublish = r.mode !== 'proxy'
    const hasPublish = r.snippets.some((s) => s.purpose === 'publish')
    const tab = this.tabs[r.name] ?? 'install'
    const shown = r.snippets.filter((s) => s.purpose === tab)
    const props = { registry: { name: r.name, type: r.type, mode: r.mode, url: r.url }, serverUrl }
    return html`<section class="card" data-registry=${r.name} aria-label=${`Registry ${r.name}`}>
      <div class="card-header">
        <div class="reg-head">
          <div class="title"><h2>${r.name}</h2><span class="badge neutral">${r.type}</span><span class="badge ${r.mode === 'proxy' ? 'proxied' : r.mode === 'local' ? 'local' : 'both'}" title=${MODE_TEXT[r.mode]}>${r.mode}</span></div>
          <span class="url">${r.url}</span>
        </div>
      </div>
      ${canPublish && hasPublish ? html`<div class="tabs" role="tablist">
        ${(['install', 'publish'] as const).map((t) => html`<button class="tab" role="tab" aria-selected=${tab === t ? 'true' : 'false'} @click=${() => (this.tabs = { ...this.tabs, [r.name]: t })}>${t === 'install' ? 'Install' : 'Publish'}</button>`)}
      </div>` : nothing}
      ${!r.accessible ? html`<p class="notice info">${icons.lock()} Your current credentials cannot read this registry: ${this.session?.role === 'anonymous' ? html`<a href="/sign-in?next=/setup">sign in</a> or` : nothing} put a token in the configuration below.</p>` : nothing}
      <div class="snippets">
        ${shown.map((s) => html`<bh-code-block heading=${s.title} language=${s.language} .code=${s.content}></bh-code-block>`)}
        ${r.snippets.length === 0 ? html`<p class="small muted">The <b>${r.type}</b> plugin offers no ready-made snippet. Point your client at <code>${r.url}</code>.</p>` : nothing}
        <bh-slot name="setup.snippet" registry-type=${r.type} .props=${props}></bh-slot>
      </div>
    </section>`
  }

  override render(): unknown {
    if (this.error) {
      return html`<div class="card"><div class="state error" role="alert">${icons.alert('state-icon')}<h3>Could not load the setup guide</h3><p>${this.error}</p>
        <div class="actions"><button class="btn" @click=${() => this.load()}>Try again</button></div></div></div>`
    }
    const g = this.guide
    if (!g) return html`<div class="loading"><span class="spinner"></span>Loading…</div>`
    const types = [...new Set(g.registries.map((r) => r.type))].sort()
    const list = g.registries.filter((r) => !this.type || r.type === this.type)
    return html`
      <div class="page-head"><div><h1>Setup Guide</h1><p>Ready-to-paste configuration for your package managers.</p></div></div>
      <div class="card intro">
        <div>
          <p>Snippets are filled with this server's address, <code>${g.server_url}</code>.
          Where a snippet reads <code>\${BATLEHUB_TOKEN}</code>, export a token first: <code>export BATLEHUB_TOKEN=…</code></p>
        </div>
      </div>
      ${g.registries.length === 0
        ? html`<div class="card"><div class="state">${icons.box('state-icon')}<h3>No registries configured</h3><p>Add a <code>[[registries]]</code> table to config.toml and restart BatleHub.</p></div></div>`
        : html`
          ${types.length > 1 ? html`<div class="filters" role="group" aria-label="Filter by type">
            <button class="chip" aria-pressed=${this.type === undefined ? 'true' : 'false'} @click=${() => (this.type = undefined)}>All</button>
            ${types.map((t) => html`<button class="chip" aria-pressed=${this.type === t ? 'true' : 'false'} @click=${() => (this.type = t)}>${t}</button>`)}
          </div>` : nothing}
          <div class="grid">${list.map((r) => this.renderRegistry(r, g.server_url))}</div>`}`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-setup-page': BhSetupPage
  }
}
