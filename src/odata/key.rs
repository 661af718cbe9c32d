//! A key predicate, OData's canonical way to name one entity (URL
//! Conventions 4.3.1): `('0193...')` or, with the key property named,
//! `(id='0193...')`. String literals are read by the `$filter` lexer's own
//! reader, so quotes are spelled alike everywhere.

use super::filter::string_literal;

/// The key a predicate's inside (between the parentheses) names, unquoted;
/// `None` when it is not a single string key, or names a property other than `key_property`.
pub fn parse_key_predicate(inside: &str, key_property: &str) -> Option<String> {
    let literal = match inside.split_once('=') {
        Some((name, value)) if name.trim() == key_property => value.trim(),
        Some(_) => return None,
        None => inside.trim(),
    };
    string_literal(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_key_with_or_without_its_name() {
        assert_eq!(parse_key_predicate("'abc'", "id").as_deref(), Some("abc"));
        assert_eq!(
            parse_key_predicate("id='abc'", "id").as_deref(),
            Some("abc")
        );
        assert_eq!(
            parse_key_predicate(" id = 'abc' ", "id").as_deref(),
            Some("abc")
        );
        assert_eq!(
            parse_key_predicate("'it''s'", "id").as_deref(),
            Some("it's")
        );
        assert_eq!(parse_key_predicate("''", "id").as_deref(), Some(""));
    }

    #[test]
    fn anything_else_names_no_key() {
        for inside in [
            "abc",
            "",
            "'abc",
            "'a'b'",
            "name='abc'",
            "id=abc",
            "'a','b'",
            "id='a',id='b'",
        ] {
            assert_eq!(parse_key_predicate(inside, "id"), None, "{inside}");
        }
    }
}
