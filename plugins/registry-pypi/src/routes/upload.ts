/**
 * `POST /legacy/`: the upload API twine speaks (PyPI's "legacy" API): one multipart request per
 * file, with the core metadata repeated as form fields. Every check runs before anything is
 * stored; errors are `400 <reason>` like PyPI's, because twine prints the reason phrase.
 */
import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  BatleHubError, GoneError, reply, type PublishFile, type RegistryReply, type RegistryRequest, type SpooledFile,
} from '@batlehub/sdk'
import {
  canonicalVersion, formatVersion, isPrerelease, isValidName, normalizeName, parseDistributionFilename, parseVersion, type DistributionFile,
} from '../names.ts'
import { readSdistMetadata, readWheelMetadata, type ArchiveMetadata } from '../archive.ts'
import { CORE_METADATA_KIND } from '../local.ts'
import { PYPI_ERROR_CODES } from '../errors.ts'
import type { PypiService } from '../service.ts'

/** A 400 with a plugin code (listed in the README). */
class UploadError extends BatleHubError {
  constructor(code: string, message: string) {
    super(code, message, 400)
  }
}

/** Form fields kept as version metadata for the JSON API (core metadata names, as twine sends them). */
const SINGLE_FIELDS = [
  'metadata_version', 'summary', 'description_content_type', 'author', 'author_email', 'maintainer',
  'maintainer_email', 'license', 'keywords', 'platform', 'home_page', 'download_url', 'requires_python',
] as const
const LIST_FIELDS = ['classifiers', 'requires_dist', 'provides_extra', 'requires_external', 'provides_dist', 'obsoletes_dist', 'dynamic'] as const

const NAME_RULE = "Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'."

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  await pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() }))
}

export function uploadRoutes(svc: PypiService): void {
  const { ctx } = svc
  const limits = {
    maxEntries: ctx.config.max_archive_entries,
    maxUncompressedBytes: ctx.config.max_uncompressed_bytes,
    maxMetadataBytes: ctx.config.max_metadata_bytes,
  }

  const upload = async (req: RegistryRequest): Promise<RegistryReply> => {
    let spooled: SpooledFile | null = null
    let filename = ''
    try {
      const fields = await req.body.multipart({
        onFile: async (part) => {
          // One distribution per request; signatures (`gpg_signature`) and extra parts are not kept.
          if (part.field !== 'content' || spooled) return drain(part.stream)
          filename = part.filename
          spooled = await ctx.archives.spool(part.stream)
        },
      })
      const file = spooled as SpooledFile | null
      return await publish(req, fields, file, filename)
    } finally {
      await (spooled as SpooledFile | null)?.cleanup()
    }
  }

  async function publish(req: RegistryRequest, fields: Record<string, string[]>, file: SpooledFile | null, filename: string): Promise<RegistryReply> {
    const one = (k: string) => fields[k]?.[0]?.trim() ?? ''
    const action = one(':action')
    if (action === 'submit') throw new GoneError('Project pre-registration is no longer required or supported, upload your files instead.')
    if (action !== 'file_upload') throw new UploadError(PYPI_ERROR_CODES.BAD_UPLOAD, `Unknown action ${JSON.stringify(action)}: only file_upload is supported.`)
    const protocol = one('protocol_version')
    if (protocol && protocol !== '1') throw new UploadError(PYPI_ERROR_CODES.BAD_UPLOAD, 'Unknown protocol version.')

    const name = one('name')
    if (!isValidName(name)) throw new UploadError(PYPI_ERROR_CODES.BAD_UPLOAD, `${JSON.stringify(name)} is an invalid value for Name. Error: ${NAME_RULE}`)
    const formVersion = one('version')
    const parsedVersion = parseVersion(formVersion)
    if (!parsedVersion) throw new UploadError(PYPI_ERROR_CODES.BAD_UPLOAD, `${JSON.stringify(formVersion)} is an invalid value for Version. Error: Use a version that complies with PEP 440.`)
    if (!file) throw new UploadError(PYPI_ERROR_CODES.BAD_UPLOAD, 'Upload payload does not have a file.')

    const dist = checkFilename(filename, name, formVersion)
    const filetype = one('filetype')
    if (filetype && filetype !== dist.filetype) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Invalid value for filetype: ${JSON.stringify(filetype)} does not describe ${filename} (${dist.filetype}).`)
    }

    // PyPI: at least one digest, and every digest given must match.
    const sha256 = one('sha256_digest').toLowerCase()
    const md5 = one('md5_digest').toLowerCase()
    if (!sha256 && !md5) throw new UploadError(PYPI_ERROR_CODES.DIGEST_MISMATCH, 'Include at least one message digest.')
    if ((sha256 && sha256 !== file.sha256) || (md5 && md5 !== file.md5)) {
      throw new UploadError(PYPI_ERROR_CODES.DIGEST_MISMATCH, 'The digest supplied does not match a digest calculated from the uploaded file.')
    }

    const meta = await readMetadata(file, dist, name, filename)
    const mdName = meta.metadata.get('name')!
    const mdVersion = meta.metadata.get('version')!
    if (normalizeName(mdName) !== normalizeName(name)) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Name in ${meta.path} (${JSON.stringify(mdName)}) does not match the form's name (${JSON.stringify(name)}).`)
    }
    if (canonicalVersion(mdVersion) !== canonicalVersion(formVersion)) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Version in ${meta.path} (${JSON.stringify(mdVersion)}) does not match the form's version (${JSON.stringify(formVersion)}).`)
    }

    // A file name is never reused (PyPI), whatever its content; twine --skip-existing reads "already exists".
    const existing = await ctx.packages.getPackage(name)
    const exists = () => new UploadError(PYPI_ERROR_CODES.FILE_EXISTS, `File already exists (${JSON.stringify(filename)}, with sha256 hash ${JSON.stringify(file.sha256)}). See ${req.baseUrl}/simple/${normalizeName(name)}/ for the files of this project.`)
    const taken = existing?.versions.some((v) => v.files.some((f) => f.filename === filename || f.filename === `${filename}.metadata`))
    if (taken) throw exists()
    // Files of one release share its version string (`1.0` and `1.0.0` are one release).
    const version = existing?.versions.find((v) => canonicalVersion(v.version) === canonicalVersion(formVersion))?.version ?? formatVersion(parsedVersion)

    const uploadedAt = new Date(ctx.clock.now()).toISOString()
    const sigValue = req.header('x-artifact-signature')
    const sigType = req.header('x-signature-type')
    const signature = sigValue || sigType ? { value: sigValue ?? '', type: sigType ?? '' } : undefined
    const files: PublishFile[] = [{
      filename,
      body: createReadStream(file.path),
      contentType: 'application/octet-stream',
      expect: { sha256: file.sha256 },
      metadata: {
        kind: 'distribution',
        packagetype: dist.filetype,
        python_version: one('pyversion') || dist.pyversion,
        requires_python: one('requires_python') || meta.metadata.get('requires-python') || '',
        upload_time: uploadedAt,
        ...(one('blake2_256_digest') ? { blake2_256: one('blake2_256_digest').toLowerCase() } : {}),
      },
    }]
    if (dist.kind === 'wheel') {
      // PEP 658: a wheel's METADATA is served beside it, so resolvers need not download the wheel.
      files.push({ filename: `${filename}.metadata`, body: meta.bytes, contentType: 'text/plain; charset=utf-8', metadata: { kind: CORE_METADATA_KIND, of: filename } })
    }

    let result
    try {
      result = await ctx.packages.publish({
        name,
        version,
        identity: req.identity,
        files,
        metadata: versionMetadata(fields, one, meta, ctx.config.max_description_bytes),
        ...(one('summary') ? { description: one('summary') } : {}),
        publishedAt: uploadedAt,
        prerelease: isPrerelease(version),
        appendToExisting: true,
        signal: req.signal,
        ...(signature ? { signature } : {}),
      })
    } catch (err) {
      // Lost a race with an identical upload: same answer as the check above.
      if ((err as { code?: string })?.code === 'BH_CONFLICT') throw exists()
      throw err
    }
    ctx.log.info('distribution uploaded', { project: result.name, version: result.version, filename, user: req.identity.userId })
    const res = reply.text('OK\n')
    return { ...res, headers: { ...res.headers, ...result.headers } }
  }

  /** Parses the file name and checks it against the form, in PyPI's words. */
  function checkFilename(filename: string, name: string, version: string): DistributionFile {
    const dist = parseDistributionFilename(filename, name) ?? parseDistributionFilename(filename)
    if (!dist) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Invalid distribution file name ${JSON.stringify(filename)}: use a wheel (PEP 427) or an sdist (.tar.gz, .zip) named {name}-{version}.`)
    }
    if (normalizeName(dist.name) !== normalizeName(name)) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Start filename for ${JSON.stringify(name)} with ${JSON.stringify(normalizeName(name).replace(/-/g, '_'))}.`)
    }
    if (canonicalVersion(dist.version) !== canonicalVersion(version)) {
      throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, `Version in filename should be ${JSON.stringify(version)} not ${JSON.stringify(dist.version)}.`)
    }
    return dist
  }

  async function readMetadata(file: SpooledFile, dist: DistributionFile, name: string, filename: string): Promise<ArchiveMetadata> {
    try {
      return dist.kind === 'wheel'
        ? await readWheelMetadata(ctx.archives, file.path, name, limits)
        : await readSdistMetadata(ctx.archives, file.path, filename, limits)
    } catch (err) {
      const e = err as { code?: string; message?: string }
      // Archive problems are the uploader's: say so in PyPI's terms; a bomb keeps its 413.
      if (e?.code === 'BH_INPUT') {
        const message = e.message ?? 'unreadable archive'
        throw new UploadError(PYPI_ERROR_CODES.BAD_DISTRIBUTION, message.startsWith('Invalid distribution file') ? message : `Invalid distribution file: ${message}`)
      }
      throw err
    }
  }

  // twine posts to the repository URL as configured, with or without the trailing slash.
  ctx.routes.post('/legacy/', upload, { summary: 'Upload a distribution (twine, PyPI legacy upload API)' })
  ctx.routes.post('/legacy', upload, { summary: 'Upload a distribution (twine, PyPI legacy upload API)' })
}

/** The version metadata kept for the JSON API, from the form (falling back to the archive's metadata). */
function versionMetadata(fields: Record<string, string[]>, one: (k: string) => string, meta: ArchiveMetadata, maxDescription: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of SINGLE_FIELDS) {
    const v = one(k) || meta.metadata.get(k.replace(/_/g, '-')) || ''
    if (v) out[k] = v
  }
  for (const k of LIST_FIELDS) {
    const values = (fields[k] ?? []).map((s) => s.trim()).filter(Boolean)
    const fallback = meta.metadata.all(k === 'classifiers' ? 'classifier' : k.replace(/_/g, '-'))
    const list = values.length ? values : [...fallback]
    if (list.length) out[k] = list
  }
  const description = fields.description?.[0] ?? meta.metadata.get('description') ?? meta.metadata.body ?? ''
  if (description) out.description = Buffer.byteLength(description) > maxDescription ? Buffer.from(description).subarray(0, maxDescription).toString('utf8') : description
  // `project_urls` arrive as "Label, URL" lines (core metadata Project-URL).
  const urls: Record<string, string> = {}
  for (const line of [...(fields.project_urls ?? []), ...(fields.project_urls ? [] : meta.metadata.all('project-url'))]) {
    const comma = line.indexOf(',')
    if (comma > 0) urls[line.slice(0, comma).trim()] = line.slice(comma + 1).trim()
  }
  if (Object.keys(urls).length) out.project_urls = urls
  return out
}
