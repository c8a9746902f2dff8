/**
 * Reads the core metadata out of an uploaded distribution — a wheel's `*.dist-info/METADATA`, an
 * sdist's `{name}-{version}/PKG-INFO` — through the kernel's safe archive reader (which refuses
 * escapes, links, duplicates and inflation past its limits), adding the PyPI layout rules and a
 * bound on the declared total size, so that a bomb is refused before it is inflated.
 */
import { createReadStream } from 'node:fs'
import { InputError, PayloadTooLargeError, type ArchiveService } from '@batlehub/sdk'
import { parseCoreMetadata, type CoreMetadata } from './core-metadata.ts'
import { normalizeName } from './names.ts'

/** Bounds applied while reading an upload. */
export interface DistributionLimits {
  /** Most entries an archive may have. */
  maxEntries: number
  /** Largest total uncompressed size, summed over the declared entry sizes. */
  maxUncompressedBytes: number
  /** Largest METADATA / PKG-INFO file. */
  maxMetadataBytes: number
}

/** What was read from the archive. */
export interface ArchiveMetadata {
  /** Path of the metadata file inside the archive. */
  path: string
  /** Its raw bytes (served as the PEP 658 `.metadata` file of wheels). */
  bytes: Buffer
  metadata: CoreMetadata
}

/** Sums declared sizes; tar sizes frame the stream and zip sizes are enforced while inflating. */
function declaredBudget(limits: DistributionLimits): (size: number) => void {
  let total = 0
  return (size) => {
    total += size
    if (total > limits.maxUncompressedBytes) throw new PayloadTooLargeError(`archive expands past ${limits.maxUncompressedBytes} bytes`)
  }
}

function kernelLimits(limits: DistributionLimits) {
  // Entry bytes are only inflated for the metadata file, which has its own bound below.
  return { maxEntries: limits.maxEntries, maxTotalBytes: limits.maxUncompressedBytes, maxEntryBytes: limits.maxUncompressedBytes }
}

function decode(bytes: Buffer, what: string): CoreMetadata {
  const md = parseCoreMetadata(new TextDecoder('utf-8').decode(bytes))
  if (!md.get('name') || !md.get('version')) throw new InputError(`Invalid distribution file: ${what} has no Name or Version field`)
  return md
}

async function readBounded(read: () => Promise<Buffer>, size: number, name: string, limits: DistributionLimits): Promise<Buffer> {
  if (size > limits.maxMetadataBytes) throw new PayloadTooLargeError(`${name} is larger than ${limits.maxMetadataBytes} bytes`)
  const bytes = await read()
  if (bytes.length > limits.maxMetadataBytes) throw new PayloadTooLargeError(`${name} is larger than ${limits.maxMetadataBytes} bytes`)
  return bytes
}

/**
 * The core metadata of a wheel: the `METADATA` of its single top-level `{dist}-{version}.dist-info`
 * directory, which must also hold `WHEEL` (PEP 427) and be named after `project`.
 */
export async function readWheelMetadata(archives: ArchiveService, path: string, project: string, limits: DistributionLimits): Promise<ArchiveMetadata> {
  const count = declaredBudget(limits)
  const infoDirs = new Set<string>()
  const names = new Set<string>()
  await archives.zip(path, kernelLimits(limits), (entry) => {
    count(entry.size)
    names.add(entry.name)
    const m = /^([^/]+\.dist-info)\//.exec(entry.name)
    if (m) infoDirs.add(m[1]!)
  })
  if (infoDirs.size !== 1) throw new InputError(`Invalid distribution file: the wheel has ${infoDirs.size === 0 ? 'no' : 'several'} .dist-info directories`)
  const dir = [...infoDirs][0]!
  const distName = dir.slice(0, -'.dist-info'.length).split('-')[0]!
  if (normalizeName(distName) !== normalizeName(project)) {
    throw new InputError(`Invalid distribution file: the wheel's ${dir} does not belong to project ${project}`)
  }
  for (const f of ['WHEEL', 'METADATA']) {
    if (!names.has(`${dir}/${f}`)) throw new InputError(`Invalid distribution file: the wheel has no ${dir}/${f}`)
  }
  const target = `${dir}/METADATA`
  let bytes: Buffer | null = null
  // Second pass: only the metadata entry is inflated.
  await archives.zip(path, kernelLimits(limits), async (entry, read) => {
    if (entry.name !== target) return
    bytes = await readBounded(read, entry.size, target, limits)
    return 'stop'
  })
  if (!bytes) throw new InputError(`Invalid distribution file: cannot read ${target}`)
  return { path: target, bytes, metadata: decode(bytes, target) }
}

/** Checks that every entry of an sdist sits in one top-level directory, and returns it. */
function topLevel(): (name: string) => string {
  let top: string | null = null
  return (name) => {
    const first = name.split('/')[0]!
    if (top === null) top = first
    else if (first !== top) throw new InputError(`Invalid distribution file: an sdist holds one top-level directory; found ${JSON.stringify(top)} and ${JSON.stringify(first)}`)
    return top
  }
}

/** The core metadata of an sdist (`.tar.gz` or `.zip`): `{name}-{version}/PKG-INFO`. */
export async function readSdistMetadata(archives: ArchiveService, path: string, filename: string, limits: DistributionLimits): Promise<ArchiveMetadata> {
  const count = declaredBudget(limits)
  const top = topLevel()
  let found: { path: string; bytes: Buffer } | null = null
  const visit = async (entry: { name: string; type: string; size: number }, read: () => Promise<Buffer>) => {
    count(entry.size)
    const dir = top(entry.name)
    if (entry.type === 'file' && entry.name === `${dir}/PKG-INFO`) {
      found = { path: entry.name, bytes: await readBounded(read, entry.size, entry.name, limits) }
    }
  }
  if (filename.endsWith('.zip')) await archives.zip(path, kernelLimits(limits), visit)
  else await archives.tar(createReadStream(path), { ...kernelLimits(limits), gzip: true }, visit)
  if (!found) throw new InputError('Invalid distribution file: the sdist has no PKG-INFO in its top-level directory')
  const { path: p, bytes } = found as { path: string; bytes: Buffer }
  return { path: p, bytes, metadata: decode(bytes, p) }
}
