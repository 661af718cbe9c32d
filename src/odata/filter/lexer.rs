//! `$filter` text -> tokens, each with the character position it starts at.

use uuid::Uuid;

use super::FilterError;
use crate::domain::parse_date_literal;
use crate::odata::{CompareOp, FilterValue};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    Open,
    Close,
    /// Only in function calls, which are refused: lexed so the refusal can say so.
    Comma,
    And,
    Or,
    Not,
    Compare(CompareOp),
    /// A literal: null, a Boolean, a number, a date, a GUID or a quoted string.
    Value(FilterValue),
    /// A property name (or something spelled like one).
    Name(String),
}

impl TokenKind {
    /// How the token is named in an error message.
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Open => "'('".into(),
            Self::Close => "')'".into(),
            Self::Comma => "','".into(),
            Self::And => "'and'".into(),
            Self::Or => "'or'".into(),
            Self::Not => "'not'".into(),
            Self::Compare(op) => format!("'{}'", op.keyword()),
            Self::Value(value) => value.describe(),
            Self::Name(n) => format!("'{n}'"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// 1-based character position in the `$filter` value.
    pub position: usize,
}

/// Splits `text` into tokens. Words (names, keywords, numbers, dates, GUIDs) run
/// until whitespace, a parenthesis or a quote; any other character is an error.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i + 1;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                TokenKind::Open
            }
            ')' => {
                i += 1;
                TokenKind::Close
            }
            ',' => {
                i += 1;
                TokenKind::Comma
            }
            '\'' => {
                let (value, next) = read_string(&chars, i)?;
                i = next;
                TokenKind::Value(FilterValue::Str(value))
            }
            c if is_word_char(c) => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                classify_word(&word, position)?
            }
            other => {
                return Err(FilterError::new(
                    position,
                    format!("unexpected character '{other}'"),
                ))
            }
        };
        tokens.push(Token { kind, position });
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '+')
}

/// `text` when it is exactly one OData string literal (`'it''s'`), unescaped.
pub(crate) fn string_literal(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.first() != Some(&'\'') {
        return None;
    }
    match read_string(&chars, 0) {
        Ok((value, end)) if end == chars.len() => Some(value),
        _ => None,
    }
}

/// Reads `'...'` starting at the opening quote; `''` stands for one quote.
fn read_string(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let mut value = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(FilterError::new(
                    open + 1,
                    "string literal is not closed: a quote inside a string is written ''",
                ))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                value.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((value, i + 1)),
            Some(c) => {
                value.push(*c);
                i += 1;
            }
        }
    }
}

/// Keywords and operators are case-insensitive (OData 4.01); property names are not.
fn classify_word(word: &str, position: usize) -> Result<TokenKind, FilterError> {
    if let Some(guid) = parse_bare_guid(word) {
        return Ok(TokenKind::Value(FilterValue::Guid(guid)));
    }
    if looks_like_date(word) {
        return parse_date_literal(word)
            .map(|date| TokenKind::Value(FilterValue::Date(date)))
            .ok_or_else(|| FilterError::new(position, format!("{word} is not a calendar date")));
    }
    let digits = word.strip_prefix('-').unwrap_or(word);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return word
            .parse::<i64>()
            .map(|n| TokenKind::Value(FilterValue::Int(n)))
            .map_err(|_| FilterError::new(position, format!("{word} is outside the Int64 range")));
    }
    let keyword = match word.to_ascii_lowercase().as_str() {
        "and" => Some(TokenKind::And),
        "or" => Some(TokenKind::Or),
        "not" => Some(TokenKind::Not),
        "eq" => Some(TokenKind::Compare(CompareOp::Eq)),
        "ne" => Some(TokenKind::Compare(CompareOp::Ne)),
        "gt" => Some(TokenKind::Compare(CompareOp::Gt)),
        "ge" => Some(TokenKind::Compare(CompareOp::Ge)),
        "lt" => Some(TokenKind::Compare(CompareOp::Lt)),
        "le" => Some(TokenKind::Compare(CompareOp::Le)),
        "null" => Some(TokenKind::Value(FilterValue::Null)),
        "true" => Some(TokenKind::Value(FilterValue::Boolean(true))),
        "false" => Some(TokenKind::Value(FilterValue::Boolean(false))),
        _ => None,
    };
    if let Some(kind) = keyword {
        return Ok(kind);
    }
    let mut chars = word.chars();
    let is_name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_name {
        Ok(TokenKind::Name(word.to_owned()))
    } else {
        Err(FilterError::new(
            position,
            format!("'{word}' is not a property name or a literal this service understands (dates are YYYY-MM-DD, numbers are whole, strings are quoted)"),
        ))
    }
}

/// `8-4-4-4-12` hex digits; other UUID spellings are not OData GUID literals.
fn parse_bare_guid(word: &str) -> Option<Uuid> {
    let groups: Vec<&str> = word.split('-').collect();
    let shaped = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    shaped.then(|| Uuid::parse_str(word).ok()).flatten()
}

fn looks_like_date(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn error_at(text: &str) -> usize {
        tokenize(text).unwrap_err().position
    }

    #[test]
    fn words_are_classified() {
        use chrono::NaiveDate;
        use TokenKind::*;
        let int = |n| Value(FilterValue::Int(n));
        let boolean = |b| Value(FilterValue::Boolean(b));
        assert_eq!(
            kinds("web ge 12 AND Not (reportRefreshDate eq 2026-01-31) or x_1 eq null"),
            [
                Name("web".into()),
                Compare(CompareOp::Ge),
                int(12),
                And,
                Not,
                Open,
                Name("reportRefreshDate".into()),
                Compare(CompareOp::Eq),
                Value(FilterValue::Date(
                    NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
                )),
                Close,
                Or,
                Name("x_1".into()),
                Compare(CompareOp::Eq),
                Value(FilterValue::Null)
            ]
        );
        assert_eq!(
            kinds("true FALSE -5"),
            [boolean(true), boolean(false), int(-5)]
        );
    }

    #[test]
    fn every_comparison_operator_is_a_keyword() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
            ("LE", CompareOp::Le),
        ] {
            assert_eq!(kinds(word), [TokenKind::Compare(op)], "{word}");
        }
    }

    #[test]
    fn guids_bare_and_quoted() {
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let uuid = Uuid::parse_str(id).unwrap();
        assert_eq!(kinds(id), [TokenKind::Value(FilterValue::Guid(uuid))]);
        assert_eq!(
            kinds(&format!("'{id}'")),
            [TokenKind::Value(FilterValue::Str(id.into()))]
        );
        // A GUID that starts with digits is not mistaken for a number.
        let digits_first = "12345678-1234-1234-1234-123456789abc";
        assert!(matches!(
            kinds(digits_first)[0],
            TokenKind::Value(FilterValue::Guid(_))
        ));
    }

    #[test]
    fn strings_unescape_doubled_quotes() {
        assert_eq!(
            kinds("'it''s'"),
            [TokenKind::Value(FilterValue::Str("it's".into()))]
        );
        assert_eq!(
            kinds("''"),
            [TokenKind::Value(FilterValue::Str(String::new()))]
        );
        assert_eq!(
            kinds("'a b(c)'"),
            [TokenKind::Value(FilterValue::Str("a b(c)".into()))]
        );
    }

    #[test]
    fn positions_count_characters() {
        let tokens = tokenize("  web  eq 'é' or").unwrap();
        let positions: Vec<usize> = tokens.iter().map(|t| t.position).collect();
        assert_eq!(positions, [3, 8, 11, 15]);
    }

    #[test]
    fn bad_text_is_located() {
        assert_eq!(error_at("web eq 'open"), 8);
        assert_eq!(error_at("web eq 1; drop"), 9);
        assert_eq!(error_at("web = 1"), 5);
        assert_eq!(error_at("web eq \"x\""), 8);
        assert_eq!(error_at("reportRefreshDate eq 2026-02-30"), 22);
        assert_eq!(error_at("web eq 99999999999999999999"), 8);
        assert_eq!(error_at("web eq 1.5"), 8);
        assert_eq!(error_at("reportRefreshDate eq 2026-01-01T00:00:00Z"), 22);
        assert_eq!(error_at("a-b eq 1"), 1);
    }

    #[test]
    fn string_literals_unescape_doubled_quotes() {
        assert_eq!(string_literal("'D7'").as_deref(), Some("D7"));
        assert_eq!(string_literal("'it''s'").as_deref(), Some("it's"));
        assert_eq!(string_literal("''").as_deref(), Some(""));
        assert_eq!(string_literal("'a'b'"), None);
        assert_eq!(string_literal("'"), None);
        assert_eq!(string_literal("D7"), None);
    }
}
