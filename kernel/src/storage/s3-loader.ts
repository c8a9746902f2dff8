/**
 * The S3 backend is loaded only when a configuration names one: @aws-sdk/client-s3 alone costs tens
 * of megabytes of memory and a noticeable start-up time that the filesystem default never needs.
 */
import type * as S3Module from './s3.ts'

let loaded: Pick<typeof S3Module, 'S3Backend' | 'createS3Client'> | undefined

/** Called by s3.ts when it is evaluated (statically imported by tests, or through loadS3()). */
export function registerS3(m: Pick<typeof S3Module, 'S3Backend' | 'createS3Client'>): void {
  loaded = m
}

/** The S3 module if it has been loaded. */
export function s3Module(): Pick<typeof S3Module, 'S3Backend' | 'createS3Client'> | undefined {
  return loaded
}

/** Loads the S3 backend. */
export async function loadS3(): Promise<Pick<typeof S3Module, 'S3Backend' | 'createS3Client'>> {
  if (!loaded) await import('./s3.ts')
  return loaded!
}

/** Whether a storage configuration names an S3 backend anywhere. */
export function usesS3(config: unknown): boolean {
  const c = (config ?? {}) as { type?: string; backends?: Array<{ type?: string }> }
  return c.type === 's3' || (c.backends ?? []).some((b) => b?.type === 's3')
}
