/** Storage: backends (filesystem, S3), the content-addressed store over them, and their manager. */
export { validateKey, validatePrefix, isKeySegment, MAX_KEY_BYTES } from './keys.ts'
export { TEMP_DIR, type StorageBackend, type PendingWrite, type ByteRange, type BackendOptions } from './backend.ts'
export { FilesystemBackend, type FilesystemBackendConfig } from './filesystem.ts'
export { S3Backend, createS3Client, type S3BackendConfig, type S3BackendOptions } from './s3.ts'
export { DIGEST_ALGORITHMS, DigestStream, parseExpectedDigest, parseExpectations } from './digests.ts'
export { parseRange, type RangeRequest } from './conditional.ts'
export { Cas, blobKey, type CasOptions, type CasPutOptions, type CasPutResult, type CasBody, type Digests, type ServeOptions } from './cas.ts'
export {
  StorageManager, StorageConfigError,
  type StorageConfig, type BackendConfig, type NamedBackendConfig, type FilesystemStorageConfig, type S3StorageConfig,
  type StorageManagerOptions, type BackendHealth,
} from './manager.ts'
