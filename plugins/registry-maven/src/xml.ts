/**
 * The XML reading and writing the plugin needs (POMs and maven-metadata.xml). Documents are small
 * and read whole, within a byte limit chosen by the caller.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { InputError } from '@batlehub/sdk'

const parser = new XMLParser({
  ignoreAttributes: true,
  // POMs declare xmlns="http://maven.apache.org/POM/4.0.0"; element names are what matter.
  removeNSPrefix: true,
  // "1.10" must stay a string, never become 1.1.
  parseTagValue: false,
  trimValues: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
})

/** An XML element as parsed: text, or child elements by name (repeated names give arrays). */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] }

/**
 * Parses a document and returns its root element's content. Refuses DTDs and entity declarations
 * (no POM or metadata needs them; they are how XML bombs and external-entity reads work), malformed
 * XML, and a root other than `root`.
 */
export function parseXmlDocument(input: Buffer | string, root: string, what: string): Record<string, XmlNode | XmlNode[]> {
  let text = typeof input === 'string' ? input : input.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new InputError(`${what}: DOCTYPE and ENTITY declarations are not allowed`)
  const valid = XMLValidator.validate(text)
  if (valid !== true) {
    const e = valid.err
    throw new InputError(`${what} is not well-formed XML: ${e.msg} (line ${e.line}, column ${e.col})`)
  }
  let doc: Record<string, unknown>
  try {
    doc = parser.parse(text) as Record<string, unknown>
  } catch (err) {
    throw new InputError(`${what} is not well-formed XML: ${(err as Error).message}`)
  }
  const names = Object.keys(doc)
  if (names.length !== 1 || names[0] !== root) throw new InputError(`${what}: expected a single <${root}> root element`)
  const content = doc[root]
  if (content === '' || content === undefined) return {}
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw new InputError(`${what}: <${root}> has no child elements`)
  return content as Record<string, XmlNode | XmlNode[]>
}

/** The text of a child element, or undefined when absent or not text. Repeated elements: the first. */
export function text(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined
  let v = (node as Record<string, unknown>)[name]
  if (Array.isArray(v)) v = v[0]
  return typeof v === 'string' ? v : undefined
}

/** A child element (object), or undefined. */
export function child(node: unknown, name: string): Record<string, unknown> | undefined {
  if (!node || typeof node !== 'object') return undefined
  let v = (node as Record<string, unknown>)[name]
  if (Array.isArray(v)) v = v[0]
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined
}

/** Every child element of a name, as an array (absent: empty). */
export function children(node: unknown, name: string): unknown[] {
  if (!node || typeof node !== 'object') return []
  const v = (node as Record<string, unknown>)[name]
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/** Escapes text for element content. */
export function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
