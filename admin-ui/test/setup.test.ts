import { expect, fixture, html } from '@open-wc/testing'
import { ContextProvider } from '@lit/context'
import '../src/pages/setup.ts'
import type { BhSetupPage } from '../src/pages/setup.ts'
import type { BhCodeBlock } from '../src/components/code-block.ts'
import { PluginUi, pluginUiContext } from '../src/plugins.ts'
import { $, $$, apiAs, text, until } from './helpers.ts'

describe('setup guide page', () => {
  it('shows a card for every configured registry with snippets filled with the server address', async () => {
    const el = await fixture<BhSetupPage>(html`<bh-setup-page .api=${await apiAs()}></bh-setup-page>`)
    await until(() => el.guide, 'loaded')
    await el.updateComplete
    const server = el.guide!.server_url
    expect(server).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect($$(el, 'section[data-registry]').map((s) => s.dataset.registry)).to.deep.equal(['npm', 'internal', 'bulk', 'empty', 'ci-only'])
    const npm = $(el, 'section[data-registry="npm"]')!
    const block = npm.querySelector('bh-code-block') as BhCodeBlock
    await block.updateComplete
    expect(block.heading).to.equal('.demorc')
    expect(block.code).to.equal(`registry=${server}/proxy/npm/\ntoken=\${BATLEHUB_TOKEN}\n`)
    expect(text(block)).to.contain(`registry=${server}/proxy/npm/`)
    expect(text($(el, '.intro'))).to.contain(server)
    // Proxy registries have nothing to publish: no tabs.
    expect(npm.querySelector('[role="tablist"]')).to.equal(null)
  })

  it('switches a hybrid registry between install and publish snippets', async () => {
    const el = await fixture<BhSetupPage>(html`<bh-setup-page .api=${await apiAs('user')}></bh-setup-page>`)
    await until(() => el.guide, 'loaded')
    await el.updateComplete
    const card = $(el, 'section[data-registry="internal"]')!
    const tabs = [...card.querySelectorAll<HTMLButtonElement>('[role="tab"]')]
    expect(tabs.map((t) => text(t))).to.deep.equal(['Install', 'Publish'])
    tabs[1]!.click()
    await el.updateComplete
    const block = card.querySelector('bh-code-block') as BhCodeBlock
    expect(block.heading).to.equal('Publish')
    expect(block.code).to.contain(`demo publish --registry ${el.guide!.server_url}/proxy/internal/`)
  })

  it('tells anonymous visitors which registries need a token', async () => {
    const el = await fixture<BhSetupPage>(html`<bh-setup-page .api=${await apiAs()} .session=${{ user_id: 'anonymous', role: 'anonymous', groups: [], provider: 'anonymous', display_name: null, explorable_registries: [] }}></bh-setup-page>`)
    await until(() => el.guide, 'loaded')
    await el.updateComplete
    expect($(el, 'section[data-registry="npm"] .notice')).to.equal(null)
    expect(text($(el, 'section[data-registry="internal"] .notice'))).to.contain('cannot read this registry')
  })

  it('copies a snippet', async () => {
    const el = await fixture<BhSetupPage>(html`<bh-setup-page .api=${await apiAs()}></bh-setup-page>`)
    await until(() => el.guide, 'loaded')
    await el.updateComplete
    const block = $(el, 'bh-code-block') as BhCodeBlock
    await block.updateComplete
    ;(block.shadowRoot!.querySelector('button') as HTMLButtonElement).click()
    await until(() => block.copied, 'copied feedback')
    await block.updateComplete
    expect(text(block.shadowRoot!.querySelector('button'))).to.equal('Copied')
  })

  it('renders the setup.snippet contribution of the registry\'s plugin with its registry', async () => {
    const api = await apiAs()
    const host = await fixture<HTMLDivElement>(html`<div></div>`)
    new ContextProvider(host, { context: pluginUiContext, initialValue: new PluginUi(api) })
    const el = document.createElement('bh-setup-page') as BhSetupPage
    el.api = api
    host.appendChild(el)
    const note = await until(() => el.shadowRoot?.querySelector('section[data-registry="bulk"] bh-slot')?.shadowRoot?.querySelector('bh-demo-setup-note'), 'contribution rendered', 8000)
    await (note as unknown as { updateComplete: Promise<unknown> }).updateComplete
    expect(text(note)).to.equal(`The demo client reads bulk from ${el.guide!.server_url}.`)
  })

  it('shows an error state when the guide cannot be loaded', async () => {
    const { ApiClient } = await import('../src/api.ts')
    const el = await fixture<BhSetupPage>(html`<bh-setup-page .api=${new ApiClient({ base: 'http://127.0.0.1:9' })}></bh-setup-page>`)
    await until(() => el.error, 'error')
    await el.updateComplete
    expect(text($(el, '.state.error'))).to.contain('Could not load the setup guide')
  })
})
