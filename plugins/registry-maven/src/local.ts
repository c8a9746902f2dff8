/**
 * Reading the hub's own artifacts (modes `local` and `hybrid`): maven-metadata.xml generated from
 * the version records, checksums from the stored digests.
 */
import type { Identity, LocalFileInfo, LocalPackageInfo, LocalVersionInfo } from '@batlehub/sdk'
import { packageName, parseFileName, type ChecksumAlgorithm } from './coordinates.ts'
import { digestStream, toHex } from './checksums.ts'
import {
  buildArtifactMetadata, buildSnapshotMetadata, renderArtifactMetadata, renderSnapshotMetadata, type ArtifactMetadata, type SnapshotFile,
} from './metadata.ts'
import type { MavenContext } from './upstream.ts'

/** Record collection of digests computed from stored files (the store keeps sha256 for sure; Maven also wants sha1/md5/sha512). */
const DIGESTS = 'digests'

export async function localPackage(ctx: MavenContext, groupId: string, artifactId: string, identity?: Identity): Promise<LocalPackageInfo | null> {
  return ctx.packages.getPackage(packageName(groupId, artifactId), identity ? { identity } : {})
}

/** Artifact-level metadata of a local package (every version, yanked ones included: Maven has no yank, and builds pinned to them must keep resolving). */
export function localArtifactMetadata(pkg: LocalPackageInfo, groupId: string, artifactId: string): ArtifactMetadata {
  return buildArtifactMetadata(groupId, artifactId, pkg.versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt })))
}

export function renderLocalArtifactMetadata(pkg: LocalPackageInfo, groupId: string, artifactId: string): string {
  return renderArtifactMetadata(localArtifactMetadata(pkg, groupId, artifactId))
}

/** The timestamped build files of a local SNAPSHOT version, read from their names. */
export function snapshotFiles(version: LocalVersionInfo, artifactId: string): SnapshotFile[] {
  const out: SnapshotFile[] = []
  for (const f of version.files) {
    const parsed = parseFileName(f.filename, artifactId, version.version)
    if (!parsed?.build) continue
    out.push({ ...(parsed.classifier ? { classifier: parsed.classifier } : {}), extension: parsed.extension, timestamp: parsed.build.timestamp, buildNumber: parsed.build.buildNumber })
  }
  return out
}

export function renderLocalSnapshotMetadata(version: LocalVersionInfo, groupId: string, artifactId: string): string {
  return renderSnapshotMetadata(buildSnapshotMetadata(groupId, artifactId, version.version, snapshotFiles(version, artifactId)))
}

/**
 * A digest of a stored local file: from the store's own digests when it has that algorithm, else
 * computed once from the bytes and remembered (files of a version never change).
 */
export async function localFileDigest(ctx: MavenContext, name: string, version: string, file: LocalFileInfo, algorithm: ChecksumAlgorithm): Promise<string | null> {
  const known = toHex(file.digests[algorithm], algorithm) ?? (algorithm === 'sha256' ? toHex(file.sha256, 'sha256') : undefined)
  if (known) return known
  const recordKey = `${name}:${version}:${file.filename}:${file.sha256}`
  const remembered = await ctx.records.get<Record<string, string>>(DIGESTS, recordKey)
  if (remembered?.[algorithm]) return remembered[algorithm]!
  const stream = await ctx.packages.openFile(name, version, file.filename)
  if (!stream) return null
  const all = await digestStream(stream)
  await ctx.records.put(DIGESTS, recordKey, all)
  return all[algorithm]
}
