export { KERNEL_VERSION } from './version.ts'
