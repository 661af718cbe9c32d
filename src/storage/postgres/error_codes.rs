//! What Postgres's SQLSTATE codes mean for the service.

use super::super::backend::ErrorClass;

/// The class of the SQLSTATE `code`: `disk_full` is out of space; too many
/// connections, cannot connect now, admin shutdown and serialization failure
/// pass if tried again later.
pub(super) fn classify(code: &str) -> ErrorClass {
    match code {
        "53100" => ErrorClass::DiskFull,
        "53300" | "57P03" | "57P01" | "40001" => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_classified() {
        assert_eq!(classify("53100"), ErrorClass::DiskFull);
        for transient in ["53300", "57P03", "57P01", "40001"] {
            assert_eq!(classify(transient), ErrorClass::Transient, "{transient}");
        }
        // unique_violation, undefined_table, syntax_error, raise_exception
        for permanent in ["23505", "42P01", "42601", "P0001"] {
            assert_eq!(classify(permanent), ErrorClass::Permanent, "{permanent}");
        }
    }
}
