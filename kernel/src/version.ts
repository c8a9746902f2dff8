/** The kernel's own version (package.json `version`). */
export const KERNEL_VERSION = '0.1.0'
