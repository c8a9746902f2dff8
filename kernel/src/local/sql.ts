/** Moved to the kernel's single SQL helper module; re-exported for code that still imports it here. */
export { qualified, sqlTime, fromSqlTime, isUniqueViolation, isTransient } from '../db/sql.ts'
