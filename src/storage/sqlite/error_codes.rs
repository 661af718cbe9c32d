//! What SQLite's result codes mean for the service. SQLite answers extended
//! codes (SQLITE_BUSY_TIMEOUT is 773); their low byte is the primary code
//! (SQLITE_BUSY, 5), and the primary code decides.

use sqlx::error::DatabaseError;
use sqlx::sqlite::SqliteError;

use super::super::backend::ErrorClass;

const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_FULL: i32 = 13;

/// The primary result code of an error: the low byte of its extended code.
fn primary_code(error: &SqliteError) -> Option<i32> {
    let extended: i32 = error.code()?.parse().ok()?;
    Some(extended & 0xff)
}

/// Every SQLITE_BUSY and SQLITE_LOCKED passes once the other connection lets
/// go; SQLITE_FULL once space returns.
fn classify_primary(primary: Option<i32>) -> ErrorClass {
    match primary {
        Some(SQLITE_FULL) => ErrorClass::DiskFull,
        Some(SQLITE_BUSY | SQLITE_LOCKED) => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

pub(super) fn classify(error: &SqliteError) -> ErrorClass {
    classify_primary(primary_code(error))
}

/// SQLITE_BUSY, whatever its extended code: another connection holds the lock.
pub(super) fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => e
            .try_downcast_ref::<SqliteError>()
            .and_then(primary_code)
            .is_some_and(|primary| primary == SQLITE_BUSY),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(extended: i32) -> ErrorClass {
        classify_primary(Some(extended & 0xff))
    }

    #[test]
    fn every_busy_and_locked_code_is_transient() {
        // BUSY, BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT;
        // LOCKED, LOCKED_SHAREDCACHE, LOCKED_VTAB.
        for code in [5, 261, 517, 773, 6, 262, 518] {
            assert_eq!(class_of(code), ErrorClass::Transient, "{code}");
        }
    }

    #[test]
    fn a_full_disk_is_its_own_class() {
        assert_eq!(class_of(13), ErrorClass::DiskFull);
    }

    #[test]
    fn other_codes_are_permanent() {
        // ERROR, CONSTRAINT, CONSTRAINT_UNIQUE, CONSTRAINT_TRIGGER, READONLY,
        // IOERR_WRITE, CORRUPT.
        for code in [1, 19, 2067, 1811, 8, 778, 11] {
            assert_eq!(class_of(code), ErrorClass::Permanent, "{code}");
        }
        assert_eq!(classify_primary(None), ErrorClass::Permanent);
    }
}
