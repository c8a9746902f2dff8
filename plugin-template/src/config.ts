import Type, { type Static } from 'typebox'

/** The plugin's own keys in a `[[registries]]` table (snake_case, like the kernel keys beside them). */
export const FilesConfig = Type.Object({
  /** Largest file accepted by PUT or fetched from an upstream. */
  max_file_bytes: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024 }),
}, { additionalProperties: false })
export type FilesConfig = Static<typeof FilesConfig>
