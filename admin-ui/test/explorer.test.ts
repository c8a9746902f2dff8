import { expect, fixture, html } from '@open-wc/testing'
import '../src/pages/explorer.ts'
import type { BhExplorerPage } from '../src/pages/explorer.ts'
import { SEARCH_DEBOUNCE_MS } from '../src/pages/explorer.ts'
import { ApiClient } from '../src/api.ts'
import { $, $$, apiAs, outage, text, type, until } from './helpers.ts'

/** Package names of the catalog rows, in order. */
const names = (el: Element) => $$(el, 'tr[data-package]').map((r) => r.dataset.package)

/** Records the explore API calls a page makes (the real requests still go out). */
function spy(api: ApiClient): string[] {
  const calls: string[] = []
  const get = api.get.bind(api)
  api.get = ((path: string, init?: object) => {
    calls.push(path)
    return get(path, init)
  }) as ApiClient['get']
  return calls
}

describe('explorer page', () => {
  it('lists every explorable registry in the sidebar, empty ones with 0, and rows by downloads', async () => {
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${await apiAs('admin')}></bh-explorer-page>`)
    await until(() => el.result && el.sidebar, 'catalog and sidebar loaded')
    await el.updateComplete
    const regs = $$(el, '.reg[data-registry]').map((b) => `${b.dataset.registry}:${text(b.querySelector('.n'))}`)
    expect(regs).to.deep.equal(['npm:4', 'internal:2', 'bulk:25', 'empty:0', 'ci-only:1'])
    expect(text($(el, '.reg[aria-current="true"]'))).to.contain('All registries')
    const order = names(el)
    expect(order.slice(0, 3)).to.deep.equal(['lodash', 'react', '@types/node'])
    expect(text($(el, '.summary'))).to.contain('of 32 packages')
  })

  it('shows Source badges (Proxied, Local, Both) and Has blocked', async () => {
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${await apiAs('admin')} .query=${{ registry: 'internal' }}></bh-explorer-page>`)
    await until(() => el.result, 'loaded')
    await el.updateComplete
    const row = (registryName: string) => $$(el, 'tr[data-package]').find((r) => r.dataset.package === registryName)!
    expect(text(row('@acme/ui-kit').querySelector('td[data-label="Source"]'))).to.equal('Local')
    expect(text(row('lodash').querySelector('td[data-label="Source"]'))).to.equal('Both')
    el.query = { registry: 'npm' }
    await until(() => el.result?.items.every((i) => i.registry === 'npm'), 'npm rows')
    await el.updateComplete
    const badges = [...row('lodash').querySelectorAll('td[data-label="Source"] .badge')].map((b) => text(b))
    expect(badges).to.deep.equal(['Proxied', 'Has blocked'])
    expect(text(row('react').querySelector('td[data-label="Source"]'))).to.equal('Proxied')
    expect(row('lodash').querySelector('a')!.getAttribute('href')).to.equal('/explore/packages/npm/lodash')
    expect(row('@types/node').querySelector('a')!.getAttribute('href')).to.equal('/explore/packages/npm/@types/node')
  })

  it('searches server-side 300 ms after the last keystroke and appends upstream hits as Not Yet Proxied', async () => {
    const api = await apiAs('admin')
    const calls = spy(api)
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${api} .query=${{ registry: 'npm' }}></bh-explorer-page>`)
    await until(() => el.result, 'loaded')
    calls.length = 0
    const input = $(el, 'input[type="search"]') as HTMLInputElement
    type(input, 'l')
    type(input, 'lo')
    type(input, 'lod')
    await new Promise((r) => setTimeout(r, SEARCH_DEBOUNCE_MS - 120))
    expect(calls, 'no request while typing').to.deep.equal([])
    await until(() => calls.length >= 2, 'requests after the debounce')
    expect(calls.filter((c) => c.startsWith('/api/v1/explore/packages')).length).to.equal(1)
    expect(calls.find((c) => c.startsWith('/api/v1/explore/packages'))).to.contain('name=lod')
    await until(() => !el.loading && !el.upstreamLoading && el.result?.items.length === 1, 'filtered')
    await el.updateComplete
    expect(names(el)).to.deep.equal(['lodash'])
    // lodash is already in the catalog: suppressed from the upstream section.
    const upstream = $$(el, 'tr[data-upstream]')
    expect(upstream.map((r) => r.dataset.upstream)).to.deep.equal(['lodash-es', 'lodash.merge'])
    expect(text(upstream[0]!.querySelector('.badge'))).to.equal('Not Yet Proxied')
    expect(upstream[0]!.querySelector('.badge')!.classList.contains('not-proxied')).to.equal(true)
    expect(text(upstream[0]!.querySelector('td[data-label="Latest"]'))).to.equal('4.17.21')
  })

  it('sorts by name and by recent access, and pages through 25 packages', async () => {
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${await apiAs('admin')} .query=${{ registry: 'bulk', sort: 'name' }}></bh-explorer-page>`)
    await until(() => el.result, 'loaded')
    await el.updateComplete
    expect(names(el).slice(0, 3)).to.deep.equal(['pkg-01', 'pkg-02', 'pkg-03'])
    expect(names(el).length).to.equal(20)
    expect(text($(el, '.pager'))).to.contain('Page 1 of 2')
    const next = $$(el, '.pager button').find((b) => text(b).includes('Next'))!
    next.click()
    await until(() => el.result?.page === 1, 'second page')
    await el.updateComplete
    expect(names(el)).to.deep.equal(['pkg-21', 'pkg-22', 'pkg-23', 'pkg-24', 'pkg-25'])
    expect(text($(el, '.summary'))).to.contain('Showing 21–25 of 25')
    const select = $(el, 'select#sort') as HTMLSelectElement
    select.value = 'recent'
    select.dispatchEvent(new Event('change'))
    await until(() => el.result?.page === 0 && el.sort === 'recent' && !el.loading, 'resorted')
    await el.updateComplete
    // pkg-01 was accessed 1 day ago, pkg-25 25 days ago.
    expect(names(el)[0]).to.equal('pkg-01')
  })

  it('filters by registry from the sidebar, and hides registries the role may not explore', async () => {
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${await apiAs('user')} .session=${{ user_id: 'dev', role: 'user', groups: [], provider: 'token', display_name: null, explorable_registries: ['npm', 'internal', 'bulk', 'empty'] }}></bh-explorer-page>`)
    await until(() => el.result && el.sidebar, 'loaded')
    await el.updateComplete
    expect($$(el, '.reg[data-registry]').map((b) => b.dataset.registry)).to.deep.equal(['npm', 'internal', 'bulk', 'empty'])
    expect(el.result!.items.some((i) => i.registry === 'ci-only')).to.equal(false)
    $(el, '.reg[data-registry="empty"]')!.click()
    await until(() => el.registry === 'empty' && !el.loading, 'filtered to empty')
    await el.updateComplete
    expect(text($(el, '.state'))).to.contain('No packages yet')
  })

  it('shows an error state with a retry when the server cannot be reached', async () => {
    const api = new ApiClient({ base: 'http://127.0.0.1:9' })
    const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${api}></bh-explorer-page>`)
    await until(() => el.error, 'error shown')
    await el.updateComplete
    expect(text($(el, '.state.error'))).to.contain('Could not load packages')
    expect(text($(el, '.state.error'))).to.contain('could not be reached')
    expect($(el, '.state.error button')).to.exist
  })

  it('warns when the database is unreachable and nothing was cached for the query', async () => {
    await outage(true)
    try {
      const el = await fixture<BhExplorerPage>(html`<bh-explorer-page .api=${await apiAs('admin')} .query=${{ q: 'never-cached-query' }}></bh-explorer-page>`)
      await until(() => el.result, 'loaded')
      await el.updateComplete
      expect(el.result!.upstream_unavailable).to.equal(true)
      expect(text($(el, '.summary .notice'))).to.contain('Database unreachable')
    } finally {
      await outage(false)
    }
  })
})
