/** Moved to the kernel's single SQL helper module; re-exported for code that still imports it here. */
export { Sql, msOf, isoOf } from '../db/sql.ts'
