/**
 * Reading a POM: the coordinates it declares (with the parent's groupId/version inherited and
 * `${…}` properties of the POM itself resolved), packaging, description and dependencies.
 */
import { InputError } from '@batlehub/sdk'
import { child, children, parseXmlDocument, text } from './xml.ts'

export interface PomDependency {
  readonly groupId: string
  readonly artifactId: string
  readonly version?: string
  readonly scope?: string
  readonly classifier?: string
  readonly type?: string
  readonly optional?: boolean
}

export interface PomInfo {
  readonly groupId: string
  readonly artifactId: string
  readonly version: string
  /** Default `jar`. */
  readonly packaging: string
  readonly name?: string
  readonly description?: string
  readonly url?: string
  readonly licenses: readonly string[]
  readonly parent?: { readonly groupId: string; readonly artifactId: string; readonly version: string }
  readonly dependencies: readonly PomDependency[]
}

const PLACEHOLDER = /\$\{([^}]+)\}/g

/** Parses a POM. Throws `InputError` for malformed XML or missing coordinates. */
export function parsePom(body: Buffer | string): PomInfo {
  const project = parseXmlDocument(body, 'project', 'POM')
  const parentNode = child(project, 'parent')
  const parent = parentNode
    ? { groupId: text(parentNode, 'groupId') ?? '', artifactId: text(parentNode, 'artifactId') ?? '', version: text(parentNode, 'version') ?? '' }
    : undefined
  const props = new Map<string, string>()
  const propsNode = child(project, 'properties')
  if (propsNode) for (const [k, v] of Object.entries(propsNode)) if (typeof v === 'string') props.set(k, v)
  const rawGroup = text(project, 'groupId') ?? parent?.groupId
  const rawVersion = text(project, 'version') ?? parent?.version
  const rawArtifact = text(project, 'artifactId')
  const builtins = new Map<string, string | undefined>([
    ['project.groupId', rawGroup], ['pom.groupId', rawGroup], ['groupId', rawGroup],
    ['project.artifactId', rawArtifact], ['pom.artifactId', rawArtifact], ['artifactId', rawArtifact],
    ['project.version', rawVersion], ['pom.version', rawVersion], ['version', rawVersion],
    ['project.parent.groupId', parent?.groupId], ['parent.groupId', parent?.groupId],
    ['project.parent.version', parent?.version], ['parent.version', parent?.version],
  ])
  const resolve = (value: string | undefined): string | undefined => {
    if (value === undefined) return undefined
    let out = value
    // Bounded: a property cycle (${a} → ${b} → ${a}) stops here and stays unresolved.
    for (let depth = 0; depth < 10 && out.includes('${'); depth++) {
      out = out.replace(PLACEHOLDER, (whole, key: string) => props.get(key) ?? builtins.get(key) ?? whole)
    }
    return out
  }
  const groupId = resolve(rawGroup)
  const artifactId = resolve(rawArtifact)
  const version = resolve(rawVersion)
  if (!groupId || !artifactId || !version) {
    throw new InputError('POM lacks groupId, artifactId or version (directly or through <parent>)')
  }
  for (const [k, v] of [['groupId', groupId], ['artifactId', artifactId], ['version', version]] as const) {
    if (v.includes('${')) throw new InputError(`POM ${k} ${v} contains an unresolved property; deploy a POM with concrete coordinates`)
  }
  const dependencies: PomDependency[] = []
  for (const d of children(child(project, 'dependencies'), 'dependency')) {
    const g = resolve(text(d, 'groupId'))
    const a = resolve(text(d, 'artifactId'))
    if (!g || !a) continue
    const v = resolve(text(d, 'version'))
    const scope = text(d, 'scope')
    const classifier = text(d, 'classifier')
    const type = text(d, 'type')
    dependencies.push({
      groupId: g, artifactId: a,
      ...(v ? { version: v } : {}), ...(scope ? { scope } : {}), ...(classifier ? { classifier } : {}), ...(type ? { type } : {}),
      ...(text(d, 'optional') === 'true' ? { optional: true } : {}),
    })
  }
  const licenses = children(child(project, 'licenses'), 'license').map((l) => text(l, 'name')).filter((n): n is string => !!n)
  const name = text(project, 'name')
  const description = text(project, 'description')
  const url = text(project, 'url')
  return {
    groupId, artifactId, version,
    packaging: resolve(text(project, 'packaging')) || 'jar',
    ...(name ? { name: resolve(name)! } : {}),
    ...(description ? { description: resolve(description)!.replace(/\s+/g, ' ').trim() } : {}),
    ...(url ? { url: resolve(url)! } : {}),
    licenses,
    ...(parent && parent.groupId && parent.artifactId && parent.version ? { parent } : {}),
    dependencies,
  }
}

/** The extension of a packaging's main artifact (`pom` has none beyond the POM). */
export function mainExtension(packaging: string): string | null {
  switch (packaging) {
    case 'pom': return null
    case 'maven-plugin': case 'bundle': case 'ejb': case 'eclipse-plugin': case 'maven-archetype': case 'jar':
      return 'jar'
    default: return packaging
  }
}
