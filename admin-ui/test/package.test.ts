import { expect, fixture, html } from '@open-wc/testing'
import { LitElement } from 'lit'
import '../src/pages/package.ts'
import type { BhPackagePage } from '../src/pages/package.ts'
import { PluginUi, pluginUiContext } from '../src/plugins.ts'
import { ContextProvider } from '@lit/context'
import { $, $$, apiAs, text, until } from './helpers.ts'

const row = (el: Element, version: string) => $$(el, 'tr[data-version]').find((r) => r.dataset.version === version)!

describe('package detail page', () => {
  it('lists versions newest first with source, firewall, downloads and dates', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('admin')} registry="npm" package-name="lodash"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    expect($$(el, 'tr[data-version]').map((r) => r.dataset.version)).to.deep.equal(['5.0.0-beta.1', '4.17.21', '4.17.20'])
    const pre = row(el, '5.0.0-beta.1').querySelector('td.version')!
    expect(pre.classList.contains('pre')).to.equal(true)
    expect(getComputedStyle(pre).fontStyle).to.equal('italic')
    expect(text(pre.querySelector('.badge'))).to.equal('pre-release')
    expect(text(row(el, '4.17.21').querySelector('td[data-label="Firewall"]'))).to.equal('Clear')
    expect(text(row(el, '4.17.21').querySelector('td[data-label="Downloads"]'))).to.equal('1,500')
    expect(text(row(el, '4.17.21').querySelector('td[data-label="Source"]'))).to.equal('Proxied')
    expect(text(row(el, '4.17.21').querySelector('td[data-label="Last accessed"]'))).to.match(/min ago|just now/)
    expect(text($(el, '.meta'))).to.contain('Has blocked')
  })

  it('shows who blocked a version, why and when when the Blocked badge is hovered or focused', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('admin')} registry="npm" package-name="lodash"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    const cell = row(el, '4.17.20').querySelector('td[data-label="Firewall"]')!
    const badge = cell.querySelector<HTMLElement>('.badge.blocked')!
    const tip = cell.querySelector<HTMLElement>('.tip')!
    expect(getComputedStyle(tip).display).to.equal('none')
    badge.focus()
    expect(getComputedStyle(tip).display).to.equal('block')
    expect(text(tip)).to.contain('CVE-2021-23337 command injection')
    expect(text(tip)).to.match(/Blocked by ?admin/)
    expect(text(tip)).to.match(/Blocked at ?\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/)
  })

  it('shows local versions, yanked ones, and the gate of a beta channel member', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('beta')} registry="internal" package-name="@acme/ui-kit"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    expect($$(el, 'tr[data-version]').map((r) => r.dataset.version)).to.deep.equal(['2.0.0-rc.1', '1.1.0', '1.0.0'])
    expect(text(row(el, '1.1.0').querySelector('td[data-label="Firewall"] .badge'))).to.equal('Yanked')
    expect(text(row(el, '1.0.0').querySelector('td[data-label="Source"]'))).to.equal('Local')
    expect(text(row(el, '1.0.0').querySelector('td[data-label="Published"]'))).to.match(/^\d{4}-\d{2}-\d{2}$/)
    expect($(el, '[data-check="registry"]')!.className).to.equal('ok')
    expect(text($(el, '[data-check="beta"]'))).to.contain('Beta channel member')
  })

  it('hides pre-releases from callers outside the beta channel and says so in the gate', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('user')} registry="internal" package-name="@acme/ui-kit"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    expect($$(el, 'tr[data-version]').map((r) => r.dataset.version)).to.deep.equal(['1.1.0', '1.0.0'])
    expect(text($(el, '[data-check="beta"]'))).to.contain('Pre-release versions are hidden from you')
  })

  it('says "Package not found" for an unknown package and for a registry the role may not explore', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('admin')} registry="npm" package-name="no-such-package"></bh-package-page>`)
    await until(() => el.error, 'error')
    await el.updateComplete
    expect(text($(el, '.state'))).to.contain('Package not found')
    const hidden = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('user')} registry="ci-only" package-name="secret-tool"></bh-package-page>`)
    await until(() => hidden.error, 'error')
    expect(hidden.error!.status).to.equal(404)
  })

  it('renders the plugin contributions of the package sidebar, with one Lit shared with the shell', async () => {
    const api = await apiAs('admin')
    const plugins = new PluginUi(api)
    const host = await fixture<HTMLDivElement>(html`<div></div>`)
    new ContextProvider(host, { context: pluginUiContext, initialValue: plugins })
    const el = document.createElement('bh-package-page') as BhPackagePage
    el.api = api
    el.registry = 'npm'
    el.packageName = 'react'
    host.appendChild(el)
    const card = await until(() => el.shadowRoot?.querySelector('bh-slot')?.shadowRoot?.querySelector('bh-demo-install') as LitElement | null | undefined, 'sidebar contribution rendered', 8000)
    await card.updateComplete
    expect(text(card)).to.contain('demo add react@18.3.1')
    expect(text(card)).to.match(/--registry http:\/\/[^ ]+\/proxy\/npm\//)
    // The host defined the tag; the element is a LitElement of the very same Lit as the UI's.
    expect(card instanceof LitElement).to.equal(true)
  })
})
