/**
 * Client configuration for the setup guide: a settings.xml mirror for installs, and for publishing
 * the `<server>` credentials plus the POM's `distributionManagement`.
 */
import type { RegistryMode, SetupSnippet } from '@batlehub/sdk'
import { esc } from './xml.ts'

/** The repository URL clients use: `{registry mount}/maven2`. */
export function repositoryUrl(baseUrl: string, registryName: string): string {
  const base = baseUrl.replace(/\/+$/, '')
  const mount = base.endsWith(`/proxy/${registryName}`) ? base : `${base}/proxy/${registryName}`
  return `${mount}/maven2`
}

export function setupSnippets(options: { baseUrl: string; registryName: string; mode: RegistryMode }): SetupSnippet[] {
  const url = esc(repositoryUrl(options.baseUrl, options.registryName))
  const id = esc(options.registryName)
  const server = [
    '    <server>',
    `      <id>${id}</id>`,
    '      <!-- Any user name; the password is a BatleHub token. -->',
    '      <username>token</username>',
    '      <password>${env.BATLEHUB_TOKEN}</password>',
    '    </server>',
  ]
  const snippets: SetupSnippet[] = [{
    title: '~/.m2/settings.xml',
    language: 'xml',
    purpose: 'install',
    content: [
      '<settings>',
      '  <mirrors>',
      '    <mirror>',
      `      <id>${id}</id>`,
      '      <mirrorOf>*</mirrorOf>',
      `      <url>${url}</url>`,
      '    </mirror>',
      '  </mirrors>',
      '  <!-- Only needed when anonymous reads are off for this registry. -->',
      '  <servers>',
      ...server,
      '  </servers>',
      '</settings>',
      '',
    ].join('\n'),
  }]
  if (options.mode !== 'proxy') {
    snippets.push({
      title: 'pom.xml (mvn deploy)',
      language: 'xml',
      purpose: 'publish',
      content: [
        '<distributionManagement>',
        '  <repository>',
        `    <id>${id}</id>`,
        `    <url>${url}</url>`,
        '  </repository>',
        '  <snapshotRepository>',
        `    <id>${id}</id>`,
        `    <url>${url}</url>`,
        '  </snapshotRepository>',
        '</distributionManagement>',
        '',
      ].join('\n'),
    }, {
      title: '~/.m2/settings.xml (deploy credentials)',
      language: 'xml',
      purpose: 'publish',
      content: ['<settings>', '  <servers>', ...server, '  </servers>', '</settings>', ''].join('\n'),
    })
  }
  return snippets
}
