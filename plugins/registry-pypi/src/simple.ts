/**
 * The Simple Repository API in both forms — PEP 503 HTML and PEP 691 JSON — as pure transforms:
 * parse an upstream page (whichever form it came in) into one model, and render the model in the
 * form a client asked for, with file URLs pointing at the hub.
 */
import { BASE_URL_PLACEHOLDER } from '@batlehub/sdk'
import { normalizeName } from './names.ts'

/** PEP 691 media types. */
export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json'
export const SIMPLE_HTML = 'application/vnd.pypi.simple.v1+html'
export const TEXT_HTML = 'text/html'

/** What we tell upstreams we accept: JSON first (it carries sizes and upload times), HTML as fallback. */
export const UPSTREAM_ACCEPT = `${SIMPLE_JSON}, ${SIMPLE_HTML};q=0.2, ${TEXT_HTML};q=0.1`

/** PEP 691 `api-version` we answer with; 1.1 (PEP 700) once every file has a size. */
const API_VERSION_FULL = '1.1'
const API_VERSION_BASIC = '1.0'

/** One distribution file on a project page. */
export interface SimpleFile {
  filename: string
  /** Absolute upstream URL (proxy) or the hub URL (rendered). */
  url: string
  /** Lower-case algorithm → lower-case hex digest. */
  hashes: Record<string, string>
  requiresPython?: string
  /** PEP 592: false, true, or the reason. */
  yanked: boolean | string
  /** PEP 658/714: false, or the hashes of the `.metadata` file (empty object when unknown). */
  coreMetadata: false | Record<string, string>
  size?: number
  uploadTime?: string
}

/** A project page. */
export interface SimpleProject {
  /** The project name as the index spells it. */
  name: string
  files: SimpleFile[]
  /** PEP 700 `versions`, when known. */
  versions?: string[]
}

/** The two representations a client may get. */
export type SimpleFormat = 'json' | 'html'

// ---------------------------------------------------------------------------------------------
// Content negotiation (PEP 691)
// ---------------------------------------------------------------------------------------------

/** The negotiated representation and the Content-Type to answer with. */
export interface Negotiated {
  format: SimpleFormat
  contentType: string
}

/**
 * Picks the representation from an `Accept` header by q-value (PEP 691). Ties go to the order the
 * client listed them in; no header, `*\/*`, or nothing we serve → HTML (PEP 691 lets a server
 * answer with a type of its choosing, and every client reads `text/html`).
 */
export function negotiate(accept: string | undefined): Negotiated {
  const fallback: Negotiated = { format: 'html', contentType: 'text/html; charset=utf-8' }
  if (!accept) return fallback
  let best: { n: Negotiated; q: number } | null = null
  for (const part of accept.split(',')) {
    const [typeRaw, ...params] = part.split(';')
    const type = typeRaw!.trim().toLowerCase()
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim())
      if (k?.toLowerCase() === 'q') q = Number(v)
    }
    if (!Number.isFinite(q) || q <= 0) continue
    let n: Negotiated | null = null
    if (type === SIMPLE_JSON || type === 'application/vnd.pypi.simple.latest+json') n = { format: 'json', contentType: SIMPLE_JSON }
    else if (type === SIMPLE_HTML || type === 'application/vnd.pypi.simple.latest+html') n = { format: 'html', contentType: SIMPLE_HTML }
    else if (type === TEXT_HTML || type === 'text/*' || type === '*/*') n = fallback
    if (n && (!best || q > best.q)) best = { n, q }
  }
  return best?.n ?? fallback
}

/** Whether an upstream Content-Type is the PEP 691 JSON form. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return !!contentType && /^application\/vnd\.pypi\.simple\.(v1|latest)\+json\b/i.test(contentType.trim())
}

// ---------------------------------------------------------------------------------------------
// HTML helpers
// ---------------------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", nbsp: '\u00a0' }

/** Decodes the HTML character references an index may use in attributes and link text. */
export function decodeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+[0-9]*);/gi, (m, ref: string) => {
    const r = ref.toLowerCase()
    if (r.startsWith('#x')) return safeCodePoint(parseInt(r.slice(2), 16)) ?? m
    if (r.startsWith('#')) return safeCodePoint(parseInt(r.slice(1), 10)) ?? m
    return ENTITIES[r] ?? m
  })
}

function safeCodePoint(n: number): string | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined
}

/** Escapes text for an HTML attribute or element (`>=3.8` → `&gt;=3.8`, PEP 503). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'))
}

/** Attributes of one start tag, names lower-cased, values decoded; valueless attributes map to ''. */
function parseAttributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>()
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g
  let m: RegExpExecArray | null
  while ((m = re.exec(tag))) {
    const name = m[1]!.toLowerCase()
    if (attrs.has(name)) continue
    attrs.set(name, decodeHtml(m[2] ?? m[3] ?? m[4] ?? ''))
  }
  return attrs
}

/** Every `<a …>text</a>` of a document, in order. */
function* anchors(html: string): Generator<{ attrs: Map<string, string>; text: string }> {
  const re = /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi
  let m: RegExpExecArray | null
  while ((m = re.exec(html))) {
    yield { attrs: parseAttributes(m[1]!), text: decodeHtml(m[2]!.replace(/<[^>]*>/g, '')).trim() }
  }
}

/** `sha256=abc…` (PEP 658 attribute values and URL fragments) → `{ sha256: 'abc…' }`. */
function parseHashSpec(spec: string): Record<string, string> | null {
  const m = /^([a-z0-9_]+)=([0-9a-f]+)$/i.exec(spec.trim())
  return m ? { [m[1]!.toLowerCase()]: m[2]!.toLowerCase() } : null
}

// ---------------------------------------------------------------------------------------------
// Parsing upstream pages
// ---------------------------------------------------------------------------------------------

/** The last path segment of a URL, percent-decoded. */
function basename(url: string): string {
  const path = url.split(/[?#]/, 1)[0]!
  const seg = path.slice(path.lastIndexOf('/') + 1)
  try {
    return decodeURIComponent(seg)
  } catch {
    return seg
  }
}

/** Resolves a link on an upstream page against the page URL; null for URLs that are not http(s). */
function resolveUrl(href: string, pageUrl: string): string | null {
  try {
    const u = new URL(href, pageUrl)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
    u.hash = ''
    return u.toString()
  } catch {
    return null
  }
}

/**
 * Parses a PEP 503 project page. URLs are resolved against `pageUrl`; the hash fragment becomes
 * `hashes`; `data-yanked`, `data-requires-python` and `data-core-metadata` /
 * `data-dist-info-metadata` are kept.
 */
export function parseProjectHtml(html: string, name: string, pageUrl: string): SimpleProject {
  const files: SimpleFile[] = []
  for (const a of anchors(html)) {
    const href = a.attrs.get('href')
    if (!href) continue
    const url = resolveUrl(href, pageUrl)
    if (!url) continue
    const hash = href.includes('#') ? parseHashSpec(href.slice(href.indexOf('#') + 1)) : null
    const filename = a.text || basename(url)
    const file: SimpleFile = { filename, url, hashes: hash ?? {}, yanked: false, coreMetadata: false }
    const rp = a.attrs.get('data-requires-python')
    if (rp) file.requiresPython = rp
    if (a.attrs.has('data-yanked')) file.yanked = a.attrs.get('data-yanked') || true
    // PEP 714: data-core-metadata supersedes data-dist-info-metadata; "true" means "present, hash unknown".
    const cm = a.attrs.get('data-core-metadata') ?? a.attrs.get('data-dist-info-metadata')
    if (cm !== undefined && cm.toLowerCase() !== 'false') file.coreMetadata = parseHashSpec(cm) ?? {}
    files.push(file)
  }
  return { name, files }
}

/** Parses a PEP 691 JSON project page. Relative file URLs are resolved against `pageUrl`. */
export function parseProjectJson(body: string, name: string, pageUrl: string): SimpleProject {
  const doc = JSON.parse(body) as { name?: unknown; files?: unknown; versions?: unknown }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.files)) throw new Error('not a PEP 691 project page')
  const files: SimpleFile[] = []
  for (const raw of doc.files as Array<Record<string, unknown>>) {
    if (!raw || typeof raw.url !== 'string' || typeof raw.filename !== 'string') continue
    const url = resolveUrl(raw.url, pageUrl)
    if (!url) continue
    const file: SimpleFile = { filename: raw.filename, url, hashes: hashDict(raw.hashes), yanked: false, coreMetadata: false }
    if (typeof raw['requires-python'] === 'string' && raw['requires-python']) file.requiresPython = raw['requires-python']
    if (raw.yanked === true || (typeof raw.yanked === 'string' && raw.yanked !== '')) file.yanked = raw.yanked
    else if (raw.yanked === '') file.yanked = true
    const cm = raw['core-metadata'] ?? raw['dist-info-metadata']
    if (cm === true) file.coreMetadata = {}
    else if (cm && typeof cm === 'object') file.coreMetadata = hashDict(cm)
    if (typeof raw.size === 'number' && Number.isSafeInteger(raw.size) && raw.size >= 0) file.size = raw.size
    if (typeof raw['upload-time'] === 'string') file.uploadTime = raw['upload-time']
    files.push(file)
  }
  const project: SimpleProject = { name: typeof doc.name === 'string' ? doc.name : name, files }
  if (Array.isArray(doc.versions)) project.versions = doc.versions.filter((v): v is string => typeof v === 'string')
  return project
}

function hashDict(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!v || typeof v !== 'object') return out
  for (const [k, h] of Object.entries(v as Record<string, unknown>)) {
    if (typeof h === 'string' && /^[0-9a-f]+$/i.test(h)) out[k.toLowerCase()] = h.toLowerCase()
  }
  return out
}

/** Parses an upstream project page in whichever form it came. */
export function parseProjectPage(body: string, contentType: string | undefined, name: string, pageUrl: string): SimpleProject {
  const trimmed = body.trimStart()
  if (isJsonContentType(contentType) || (trimmed.startsWith('{') && /^application\/json\b/i.test(contentType ?? ''))) {
    return parseProjectJson(body, name, pageUrl)
  }
  return parseProjectHtml(body, name, pageUrl)
}

/** Project names of an upstream root index (`/simple/`), in either form. */
export function parseRootIndex(body: string, contentType: string | undefined): string[] {
  if (isJsonContentType(contentType)) {
    const doc = JSON.parse(body) as { projects?: Array<{ name?: unknown }> }
    return (doc.projects ?? []).map((p) => p?.name).filter((n): n is string => typeof n === 'string' && n.length > 0)
  }
  const names: string[] = []
  for (const a of anchors(body)) if (a.text) names.push(a.text)
  return names
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/**
 * The hub URL of a file: `{base}/files/{project}/{filename}`. The project segment is the normalised
 * name, so the download route can find the file on its project page.
 */
export function hubFileUrl(project: string, filename: string, base = BASE_URL_PLACEHOLDER): string {
  return `${base}/files/${encodeURIComponent(normalizeName(project))}/${encodeURIComponent(filename)}`
}

/** The hash to put in an HTML `#fragment` (one only): sha256 when present. */
function fragmentHash(hashes: Record<string, string>): string {
  const alg = hashes.sha256 ? 'sha256' : Object.keys(hashes).sort()[0]
  return alg ? `#${alg}=${hashes[alg]}` : ''
}

/** Renders a project page as PEP 503 HTML (with PEP 629 repository version and PEP 714 attributes). */
export function renderProjectHtml(project: SimpleProject): string {
  const title = escapeHtml(project.name)
  const lines = [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    `    <meta name="pypi:repository-version" content="${API_VERSION_BASIC}">`,
    `    <title>Links for ${title}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>Links for ${title}</h1>`,
  ]
  for (const f of project.files) {
    let attrs = `href="${escapeHtml(f.url + fragmentHash(f.hashes))}"`
    if (f.requiresPython) attrs += ` data-requires-python="${escapeHtml(f.requiresPython)}"`
    if (f.yanked !== false) attrs += ` data-yanked="${typeof f.yanked === 'string' ? escapeHtml(f.yanked) : ''}"`
    if (f.coreMetadata !== false) {
      // Both names in HTML, as pypi.org: pip < 23.2 reads data-dist-info-metadata, newer clients
      // data-core-metadata (PEP 714); the old name only ever broke pip in the JSON form.
      const v = escapeHtml(fragmentHash(f.coreMetadata).slice(1) || 'true')
      attrs += ` data-dist-info-metadata="${v}" data-core-metadata="${v}"`
    }
    lines.push(`    <a ${attrs}>${escapeHtml(f.filename)}</a><br />`)
  }
  lines.push('  </body>', '</html>', '')
  return lines.join('\n')
}

/**
 * Renders a project page as PEP 691 JSON (api-version 1.1 when every file has a size). `extra` adds
 * top-level keys; PEP 691 reserves keys starting with `_` for the index server's own use.
 */
export function renderProjectJson(project: SimpleProject, extra: Record<string, unknown> = {}): string {
  const full = project.files.every((f) => f.size !== undefined)
  const files = project.files.map((f) => {
    const o: Record<string, unknown> = { filename: f.filename, url: f.url, hashes: f.hashes }
    if (f.requiresPython) o['requires-python'] = f.requiresPython
    o.yanked = f.yanked
    // PEP 714: only the new key. pip 22.3-23.0.1 crash on a `dist-info-metadata` dict in JSON.
    o['core-metadata'] = f.coreMetadata === false ? false : Object.keys(f.coreMetadata).length ? f.coreMetadata : true
    if (f.size !== undefined) o.size = f.size
    if (f.uploadTime) o['upload-time'] = f.uploadTime
    return o
  })
  const doc: Record<string, unknown> = {
    meta: { 'api-version': full ? API_VERSION_FULL : API_VERSION_BASIC },
    name: normalizeName(project.name),
    files,
  }
  if (full || project.versions) doc.versions = project.versions ?? []
  return JSON.stringify({ ...doc, ...extra })
}

/** Renders a project page in the given form. */
export function renderProject(project: SimpleProject, format: SimpleFormat): string {
  return format === 'json' ? renderProjectJson(project) : renderProjectHtml(project)
}

/** Renders the root index. Links are relative (`{name}/`), so they resolve below any mount. */
export function renderRootIndex(names: Iterable<string>, format: SimpleFormat): string {
  if (format === 'json') {
    const projects: Array<{ name: string }> = []
    for (const n of names) projects.push({ name: n })
    return JSON.stringify({ meta: { 'api-version': API_VERSION_BASIC }, projects })
  }
  const lines = [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    `    <meta name="pypi:repository-version" content="${API_VERSION_BASIC}">`,
    '    <title>Simple index</title>',
    '  </head>',
    '  <body>',
  ]
  for (const n of names) lines.push(`    <a href="${escapeHtml(encodeURIComponent(normalizeName(n)))}/">${escapeHtml(n)}</a>`)
  lines.push('  </body>', '</html>', '')
  return lines.join('\n')
}

/**
 * Rewrites every file URL of a parsed upstream page to the hub (with {@link BASE_URL_PLACEHOLDER}),
 * and returns the map of file name → original upstream URL the download route needs.
 */
export function toHubUrls(project: SimpleProject, projectName: string): { project: SimpleProject; upstreamUrls: Record<string, string> } {
  const upstreamUrls: Record<string, string> = {}
  const files = project.files.map((f) => {
    upstreamUrls[f.filename] = f.url
    return { ...f, url: hubFileUrl(projectName, f.filename) }
  })
  return { project: { ...project, files }, upstreamUrls }
}
