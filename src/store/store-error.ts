import { SamepageError } from '../ids/index.ts'

/**
 * The database file cannot be used by this code: written by a newer
 * samepage (SCHEMA_NEWER), or by a version it has no migration from
 * (SCHEMA_UNSUPPORTED), damaged or not a database (STORE_CORRUPT), not
 * openable (STORE_CANTOPEN), on a full disk at open (STORE_FULL), or readable
 * by others and not ours to make private (STORE_INSECURE). The user's way out is in the message; the store
 * is left as it was.
 */
type StoreErrorCode =
  'SCHEMA_NEWER' | 'SCHEMA_UNSUPPORTED' | 'STORE_CORRUPT' | 'STORE_CANTOPEN' | 'STORE_FULL' | 'STORE_INSECURE'

export class StoreError extends SamepageError<StoreErrorCode> {}
