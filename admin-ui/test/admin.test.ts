import { expect, fixture, html } from '@open-wc/testing'
import '../src/pages/admin.ts'
import type { BhAdminDashboard, BhAdminExploreCache, BhAdminBanner } from '../src/pages/admin.ts'
import { $, apiAs, text, type, until } from './helpers.ts'

describe('admin pages', () => {
  it('dashboard shows totals and a row per registry', async () => {
    const el = await fixture<BhAdminDashboard>(html`<bh-admin-dashboard .api=${await apiAs('admin')}></bh-admin-dashboard>`)
    await until(() => el.data, 'loaded')
    await el.updateComplete
    expect(text($(el, '[data-tile="packages"] .v'))).to.equal('32')
    expect(text($(el, '[data-tile="hit-rate"]'))).to.contain('0 hits · 0 misses (artifacts)')
    expect(text($(el, 'tr[data-registry="bulk"] td[data-label="Packages"]'))).to.equal('25')
  })

  it('explore cache page flushes one registry or everything', async () => {
    const el = await fixture<BhAdminExploreCache>(html`<bh-admin-explore-cache .api=${await apiAs('admin')}></bh-admin-explore-cache>`)
    await until(() => el.registries.length, 'registries')
    await el.updateComplete
    ;($(el, '#flush-one') as HTMLButtonElement).click()
    await until(() => el.result, 'flushed')
    await el.updateComplete
    expect(text($(el, '.notice'))).to.equal('Explorer cache of npm invalidated.')
    ;($(el, '#flush-all') as HTMLButtonElement).click()
    await until(() => el.result?.text.startsWith('The whole'), 'flushed all')
  })

  it('explore cache page reports a refusal for non-admins', async () => {
    const el = await fixture<BhAdminExploreCache>(html`<bh-admin-explore-cache .api=${await apiAs('user')}></bh-admin-explore-cache>`)
    await until(() => el.registries.length, 'registries')
    await el.updateComplete
    ;($(el, '#flush-all') as HTMLButtonElement).click()
    await until(() => el.result, 'answered')
    expect(el.result!.ok).to.equal(false)
    expect(el.result!.text).to.contain('admin role required')
  })

  it('banner page sets and clears the banner', async () => {
    const api = await apiAs('admin')
    const el = await fixture<BhAdminBanner>(html`<bh-admin-banner .api=${api}></bh-admin-banner>`)
    await el.updateComplete
    type($(el, 'textarea') as unknown as HTMLInputElement, 'Registry npm is read-only today')
    ;($(el, 'input[value="error"]') as HTMLInputElement).click()
    await el.updateComplete
    ;($(el, '#set') as HTMLButtonElement).click()
    await until(() => el.current, 'set')
    expect((await api.get<{ banner: { message: string; level: string } }>('/api/v1/banner')).banner).to.include({ message: 'Registry npm is read-only today', level: 'error' })
    await el.updateComplete
    ;($(el, '#clear') as HTMLButtonElement).click()
    await until(() => el.current === null, 'cleared')
    expect((await api.get<{ banner: unknown }>('/api/v1/banner')).banner).to.equal(null)
  })
})
