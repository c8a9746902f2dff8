/**
 * `@batlehub/kernel`: the BatleHub microkernel. Embedders use `Kernel.create()`; plugins never
 * import this package (they import `@batlehub/sdk`).
 */
export { KERNEL_VERSION } from './version.ts'
export { Kernel, loadPlugins, catalogOf, type KernelOptions, type PluginReport } from './kernel.ts'
export { PluginLoadError, discoverPlugins, loadPluginDir, readManifest, type LoadedPlugin, type DiscoveredPlugin } from './plugins/loader.ts'
