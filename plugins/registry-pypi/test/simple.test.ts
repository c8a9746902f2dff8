import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BASE_URL_PLACEHOLDER } from '@batlehub/sdk'
import {
  negotiate, parseProjectHtml, parseProjectJson, parseProjectPage, parseRootIndex, renderProjectHtml, renderProjectJson,
  renderRootIndex, toHubUrls, hubFileUrl, SIMPLE_JSON, SIMPLE_HTML,
} from '../src/simple.ts'
import { parseCoreMetadata } from '../src/core-metadata.ts'
import { formatPypiError } from '../src/errors.ts'

const SHA = 'a'.repeat(64)
const MD_SHA = 'b'.repeat(64)

// Trimmed from pypi.org's /simple/{project}/ (HTML), with a relative link as devpi writes them.
const HTML = `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.1">
    <title>Links for demo-lib</title>
  </head>
  <body>
    <h1>Links for demo-lib</h1>
    <a href="https://files.example/packages/aa/demo_lib-1.0.0-py3-none-any.whl#sha256=${SHA}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=${MD_SHA}" data-core-metadata="sha256=${MD_SHA}">demo_lib-1.0.0-py3-none-any.whl</a><br />
    <a href="../../packages/demo_lib-0.9.0.tar.gz#md5=0123abcd" data-yanked="broken &amp; bad">demo_lib-0.9.0.tar.gz</a><br />
    <a href='https://files.example/demo_lib-0.8.0.tar.gz' data-yanked>demo_lib-0.8.0.tar.gz</a>
    <a href="javascript:alert(1)">evil-1.0.tar.gz</a>
  </body>
</html>`

const Parse = suite('pypi simple: parsing upstream pages')

Parse('reads PEP 503 HTML: hashes, requires-python, yanked, core metadata, relative URLs', () => {
  const p = parseProjectHtml(HTML, 'demo-lib', 'https://index.example/simple/demo-lib/')
  assert.is(p.files.length, 3)
  const [wheel, sdist, old] = p.files
  assert.equal(wheel, {
    filename: 'demo_lib-1.0.0-py3-none-any.whl',
    url: 'https://files.example/packages/aa/demo_lib-1.0.0-py3-none-any.whl',
    hashes: { sha256: SHA },
    requiresPython: '>=3.8',
    yanked: false,
    coreMetadata: { sha256: MD_SHA },
  })
  assert.is(sdist!.url, 'https://index.example/packages/demo_lib-0.9.0.tar.gz')
  assert.equal(sdist!.hashes, { md5: '0123abcd' })
  assert.is(sdist!.yanked, 'broken & bad')
  assert.is(old!.yanked, true)
  assert.is(old!.coreMetadata, false)
})

Parse('reads PEP 691 JSON, PEP 700 fields included', () => {
  const body = JSON.stringify({
    meta: { 'api-version': '1.1' }, name: 'demo-lib', versions: ['1.0.0'],
    files: [
      { filename: 'demo_lib-1.0.0-py3-none-any.whl', url: '/packages/x.whl', hashes: { sha256: SHA }, 'requires-python': '>=3.8', yanked: false, 'core-metadata': { sha256: MD_SHA }, size: 1234, 'upload-time': '2024-01-02T00:00:00.000000Z' },
      { filename: 'demo_lib-0.9.0.tar.gz', url: 'https://f.example/y.tar.gz', hashes: {}, yanked: 'bad', 'dist-info-metadata': true },
      { filename: 'bad', url: 'file:///etc/passwd', hashes: {} },
    ],
  })
  const p = parseProjectJson(body, 'demo-lib', 'https://index.example/simple/demo-lib/')
  assert.equal(p.versions, ['1.0.0'])
  assert.is(p.files.length, 2)
  assert.is(p.files[0]!.url, 'https://index.example/packages/x.whl')
  assert.is(p.files[0]!.size, 1234)
  assert.is(p.files[0]!.uploadTime, '2024-01-02T00:00:00.000000Z')
  assert.is(p.files[1]!.yanked, 'bad')
  assert.equal(p.files[1]!.coreMetadata, {})
})

Parse('picks the parser by content type', () => {
  const json = JSON.stringify({ meta: { 'api-version': '1.0' }, name: 'x', files: [] })
  assert.equal(parseProjectPage(json, SIMPLE_JSON, 'x', 'http://i/').files, [])
  assert.is(parseProjectPage(HTML, 'text/html', 'demo-lib', 'http://i/simple/demo-lib/').files.length, 3)
})

Parse('reads root indexes in both forms', () => {
  assert.equal(parseRootIndex('<a href="/simple/a/">A</a>\n<a href="/simple/b-c/">b_c</a>', 'text/html'), ['A', 'b_c'])
  assert.equal(parseRootIndex(JSON.stringify({ meta: {}, projects: [{ name: 'A' }, { name: 'b' }] }), SIMPLE_JSON), ['A', 'b'])
})

const Render = suite('pypi simple: rendering')

Render('rewrites file URLs to the hub and keeps the upstream ones apart', () => {
  const p = parseProjectHtml(HTML, 'demo-lib', 'https://index.example/simple/demo-lib/')
  const { project, upstreamUrls } = toHubUrls(p, 'Demo_Lib')
  assert.is(project.files[0]!.url, `${BASE_URL_PLACEHOLDER}/files/demo-lib/demo_lib-1.0.0-py3-none-any.whl`)
  assert.is(upstreamUrls['demo_lib-0.9.0.tar.gz'], 'https://index.example/packages/demo_lib-0.9.0.tar.gz')
  assert.is(hubFileUrl('x', 'x-1!0.tar.gz', 'http://h'), 'http://h/files/x/x-1!0.tar.gz')
})

Render('renders PEP 503 HTML that parses back to the same model', () => {
  const p = parseProjectHtml(HTML, 'demo-lib', 'https://index.example/simple/demo-lib/')
  const html = renderProjectHtml(p)
  assert.match(html, /data-requires-python="&gt;=3\.8"/)
  assert.match(html, /data-yanked="broken &amp; bad"/)
  assert.match(html, new RegExp(`data-dist-info-metadata="sha256=${MD_SHA}" data-core-metadata="sha256=${MD_SHA}"`))
  assert.match(html, /<meta name="pypi:repository-version" content="1\.0">/)
  assert.equal(parseProjectHtml(html, 'demo-lib', 'https://index.example/simple/demo-lib/'), p)
})

Render('renders PEP 691 JSON, api-version 1.1 only when sizes are known', () => {
  const p = parseProjectHtml(HTML, 'demo-lib', 'https://index.example/')
  const basic = JSON.parse(renderProjectJson(p))
  assert.is(basic.meta['api-version'], '1.0')
  assert.is(basic.files[0]['core-metadata'].sha256, MD_SHA)
  assert.not.ok('dist-info-metadata' in basic.files[0], 'PEP 714: no old key in JSON')
  assert.is(basic.files[1].yanked, 'broken & bad')
  assert.is(basic.files[2].yanked, true)
  const sized = { ...p, files: p.files.map((f) => ({ ...f, size: 10 })), versions: ['1.0.0'] }
  const full = JSON.parse(renderProjectJson(sized, { _private: 1 }))
  assert.is(full.meta['api-version'], '1.1')
  assert.equal(full.versions, ['1.0.0'])
  assert.is(full._private, 1)
  assert.equal(parseProjectJson(renderProjectJson(sized), 'demo-lib', 'https://index.example/'), { ...sized, name: 'demo-lib' })
})

Render('renders root indexes with relative links', () => {
  const html = renderRootIndex(['Demo_Lib', 'x<y'], 'html')
  assert.match(html, /<a href="demo-lib\/">Demo_Lib<\/a>/)
  assert.match(html, /x&lt;y/)
  assert.equal(JSON.parse(renderRootIndex(['a'], 'json')).projects, [{ name: 'a' }])
})

const Negotiate = suite('pypi simple: content negotiation (PEP 691)')

Negotiate('honours q-values and falls back to HTML', () => {
  assert.is(negotiate(undefined).format, 'html')
  assert.is(negotiate('*/*').format, 'html')
  assert.is(negotiate('application/json').contentType, 'text/html; charset=utf-8')
  // pip's header
  assert.equal(negotiate('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'), { format: 'json', contentType: SIMPLE_JSON })
  assert.equal(negotiate('application/vnd.pypi.simple.v1+json;q=0.2, application/vnd.pypi.simple.v1+html'), { format: 'html', contentType: SIMPLE_HTML })
  assert.is(negotiate('application/vnd.pypi.simple.latest+json').format, 'json')
  assert.is(negotiate('application/vnd.pypi.simple.v1+json;q=0').format, 'html')
  assert.is(negotiate('text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.6').format, 'json')
})

const Metadata = suite('pypi core metadata')

Metadata('parses headers, repeated fields, continuations and the body', () => {
  const md = parseCoreMetadata('Metadata-Version: 2.1\nName: demo-lib\nVersion: 1.0\nRequires-Dist: a>=1\nRequires-Dist: b ; extra == "x"\nLicense: MIT\n        line two\n\n# Title\n\nBody text\n')
  assert.is(md.get('name'), 'demo-lib')
  assert.is(md.get('NAME'), 'demo-lib')
  assert.equal(md.all('requires-dist'), ['a>=1', 'b ; extra == "x"'])
  assert.is(md.get('license'), 'MIT\nline two')
  assert.is(md.body, '# Title\n\nBody text\n')
  assert.is(parseCoreMetadata('garbage').get('name'), undefined)
})

const Errors = suite('pypi error bodies')

Errors('are HTML pages like PyPI, with the message as reason phrase', () => {
  const e = formatPypiError({ status: 400, code: 'BH_INPUT', message: 'File already exists <x>', details: {} })
  assert.is(e.reason, 'File already exists <x>')
  assert.is(e.contentType, 'text/html; charset=UTF-8')
  assert.match(e.body, /<title>400 File already exists &lt;x&gt;<\/title>/)
})

Parse.run()
Render.run()
Negotiate.run()
Metadata.run()
Errors.run()
