/** tsyringe injection tokens of the kernel's services (kernel-internal; never reach plugins). */
export const TOKENS = Object.freeze({
  Config: Symbol('Config'),
  Logger: Symbol('Logger'),
  Database: Symbol('Database'),
  Storage: Symbol('Storage'),
  Events: Symbol('Events'),
  Metrics: Symbol('Metrics'),
  Clock: Symbol('Clock'),
  Api: Symbol('Api'),
  AuthChain: Symbol('AuthChain'),
  Kernel: Symbol('Kernel'),
})
