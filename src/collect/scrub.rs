//! Texts from Entra ID and Graph made fit to log, store and show: every
//! secret taken out (`redact`), then cut to a bounded, one-line summary
//! (`summarise`). An upstream may echo what it was sent (a login form with the
//! client secret, a request's bearer token), and its texts can be any length.

use url::form_urlencoded;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The most characters an error the collector stores or shows may have.
pub const MAX_ERROR_CHARS: usize = 500;

/// The most characters of one upstream text (an `error_description`, Graph's
/// error message) quoted inside an error: room is left for the error's advice.
pub const MAX_QUOTED_CHARS: usize = 200;

/// Names whose value is a credential wherever it appears as `name=value`,
/// `name: value` or `"name":"value"`.
const SECRET_FIELDS: [&str; 6] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "assertion",
];

/// `text` with every one of `secrets` (as given, form-encoded or
/// percent-encoded either case, JSON-escaped) and every credential-looking
/// part replaced by `[redacted]`: a bearer token, the value of a credential
/// field (`access_token=...`, `"client_secret": "..."`), a JWT (`eyJ...`).
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut variants: Vec<String> = secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty())
        .flat_map(encodings)
        .collect();
    // Longest first: a secret that contains another goes whole.
    variants.sort_by_key(|v| std::cmp::Reverse(v.len()));
    variants.dedup();
    let mut text = text.to_owned();
    for variant in &variants {
        if variant.chars().count() >= SHORT_SECRET_CHARS {
            if text.contains(variant.as_str()) {
                text = text.replace(variant.as_str(), REDACTED);
            }
        } else {
            text = replace_whole_words(&text, variant);
        }
    }
    redact_patterns(&text)
}

/// A configured secret shorter than this (a test value, say) is redacted
/// only where it stands as a word of its own: anywhere, a secret `s` would
/// take every `s` out of the error.
const SHORT_SECRET_CHARS: usize = 8;

/// `text` with `word` replaced where no letter or digit touches it on either side.
fn replace_whole_words(text: &str, word: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let end = at + word.len();
        let before = rest[..at].chars().next_back();
        let after = rest[end..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            out.push_str(word);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The ways a secret can come back: as is, in a form body, in a URL, in JSON.
fn encodings(secret: &str) -> Vec<String> {
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let percent: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let json = serde_json::to_string(secret)
        .map(|quoted| quoted[1..quoted.len() - 1].to_owned())
        .unwrap_or_default();
    let mut all = vec![secret.to_owned(), json];
    for encoded in [form, percent] {
        all.push(lowercase_escapes(&encoded));
        all.push(encoded);
    }
    all.retain(|v| !v.is_empty());
    all
}

/// `%7E` as `%7e`: percent-encoding's hex digits may come back in either case.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// Bearer tokens, credential fields and JWTs, whoever's they are.
fn redact_patterns(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let starts_word = at == 0 || !is_token_byte(bytes[at - 1]);
        let secret = if starts_word {
            bearer_value(bytes, at)
                .or_else(|| field_value(bytes, at))
                .or_else(|| jwt(bytes, at))
        } else {
            None
        };
        match secret {
            // Redacted already (a configured secret after `Bearer `): kept as it is.
            Some((start, _)) if text[start..].starts_with(REDACTED) => {
                at = start + REDACTED.len();
            }
            // Every match starts and ends at an ASCII byte or the end: char boundaries.
            Some((start, end)) if end > start => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                at = end;
            }
            _ => at += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Where a value ends: at a delimiter an upstream would put after it.
fn value_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| {
            b.is_ascii_whitespace()
                || b.is_ascii_control()
                || matches!(
                    b,
                    b'"' | b'\'' | b',' | b';' | b'&' | b'<' | b'>' | b')' | b']' | b'}'
                )
        })
        .map_or(bytes.len(), |end| start + end)
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| *b == b' ' || *b == b'\t') {
        at += 1;
    }
    at
}

fn starts_with_ignore_case(bytes: &[u8], at: usize, word: &str) -> bool {
    bytes
        .get(at..at + word.len())
        .is_some_and(|part| part.eq_ignore_ascii_case(word.as_bytes()))
}

/// `Bearer <token>`: the token's span.
fn bearer_value(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    if !starts_with_ignore_case(bytes, at, "bearer") {
        return None;
    }
    let after = at + "bearer".len();
    let start = skip_spaces(bytes, after);
    (start > after).then(|| (start, value_end(bytes, start)))
}

/// `name=value`, `name: value`, `"name": "value"` of a credential field: the value's span.
fn field_value(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let name = SECRET_FIELDS
        .iter()
        .find(|name| starts_with_ignore_case(bytes, at, name))?;
    let mut cursor = at + name.len();
    if bytes.get(cursor).is_some_and(|b| is_token_byte(*b)) {
        return None;
    }
    if bytes.get(cursor) == Some(&b'"') {
        cursor += 1;
    }
    cursor = skip_spaces(bytes, cursor);
    if !matches!(bytes.get(cursor), Some(b'=' | b':')) {
        return None;
    }
    cursor = skip_spaces(bytes, cursor + 1);
    if matches!(bytes.get(cursor), Some(b'"' | b'\'')) {
        cursor += 1;
    }
    Some((cursor, value_end(bytes, cursor)))
}

/// A JWT: `eyJ` (base64url of `{"`), base64url segments joined by dots.
fn jwt(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    if !bytes[at..].starts_with(b"eyJ") {
        return None;
    }
    let end = bytes[at..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(bytes.len(), |end| at + end);
    bytes[at..end].contains(&b'.').then_some((at, end))
}

/// `text` on one line (control characters as spaces) and at most `max_chars`
/// characters, cut on a character boundary with a marker saying how much
/// was left out.
pub fn summarise(text: &str, max_chars: usize) -> String {
    let one_line = |c: char| if c.is_control() { ' ' } else { c };
    let total = text.chars().count();
    if total <= max_chars {
        return text.chars().map(one_line).collect();
    }
    let marker = |left: usize| format!("… [{left} more characters cut]");
    // The marker's own length depends on the count it names: a marker sized
    // for the whole text is never shorter than the one printed.
    let keep = max_chars.saturating_sub(marker(total).chars().count());
    let mut summary: String = text.chars().take(keep).map(one_line).collect();
    summary.push_str(&marker(total - keep));
    summary
}

/// An upstream text as it may enter an error: secrets out, then bounded.
pub fn quoted<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    summarise(&redact(text, secrets), MAX_QUOTED_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Xy9~very-secret client+value/=";

    /// Redaction with no configured secret: the patterns alone.
    fn patterns(text: &str) -> String {
        redact(text, &[] as &[&str])
    }

    #[test]
    fn a_configured_secret_goes_in_every_encoding() {
        for echoed in [
            format!("Invalid client secret '{SECRET}' provided"),
            "client_id=app&client_sec=Xy9%7Every-secret+client%2Bvalue%2F%3D&x=1".to_owned(),
            "echo Xy9%7every-secret+client%2bvalue%2f%3d".to_owned(),
            "url Xy9~very-secret%20client%2Bvalue%2F%3D".to_owned(),
        ] {
            let redacted = redact(&echoed, &[SECRET]);
            assert!(redacted.contains(REDACTED), "{redacted}");
            assert!(!redacted.contains("very-secret"), "{redacted}");
        }
        let json = serde_json::json!({ "said": "a \"quoted\" secret" }).to_string();
        let redacted = redact(&json, &["a \"quoted\" secret"]);
        assert!(!redacted.contains("quoted"), "{redacted}");
    }

    #[test]
    fn a_short_secret_goes_only_where_it_stands_alone() {
        assert_eq!(
            redact("it was s, is s3 or 's'", &["s"]),
            "it was [redacted], is s3 or '[redacted]'"
        );
        assert_eq!(
            redact("client_id=a&secret=pw12&x", &["pw12"]),
            "client_id=a&secret=[redacted]&x"
        );
    }

    #[test]
    fn the_longer_of_two_overlapping_secrets_goes_whole() {
        assert_eq!(
            redact("key: abcdef123456", &["abc", "abcdef123456"]),
            "key: [redacted]"
        );
        // An empty secret redacts nothing.
        assert_eq!(redact("plain words", &[String::new()]), "plain words");
    }

    #[test]
    fn bearer_tokens_are_redacted_in_any_case() {
        assert_eq!(
            patterns("Authorization: Bearer abc.def-ghi is not valid"),
            "Authorization: Bearer [redacted] is not valid"
        );
        assert_eq!(
            patterns("header 'bearer  tok3n', then"),
            "header 'bearer  [redacted]', then"
        );
        // The word alone, or inside another, is left.
        assert_eq!(
            patterns("the bearer, and unbearer x"),
            "the bearer, and unbearer x"
        );
        assert_eq!(patterns("Bearer"), "Bearer");
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let once = redact("Bearer tok3n-value; token tok3n-value", &["tok3n-value"]);
        assert_eq!(once, "Bearer [redacted]; token [redacted]");
        assert_eq!(redact(&once, &["tok3n-value"]), once);
        assert_eq!(
            patterns("access_token=[redacted]&x=1"),
            "access_token=[redacted]&x=1"
        );
    }

    #[test]
    fn credential_fields_lose_their_values() {
        assert_eq!(
            patterns("grant=x&client_secret=s3cr3t&access_token=abc&scope=y"),
            "grant=x&client_secret=[redacted]&access_token=[redacted]&scope=y"
        );
        assert_eq!(
            patterns(r#"{"access_token": "abc", "expires_in": 1}"#),
            r#"{"access_token": "[redacted]", "expires_in": 1}"#
        );
        assert_eq!(
            patterns("Refresh_Token: abc def"),
            "Refresh_Token: [redacted] def"
        );
        // A longer name is another field; a name without a value is left.
        assert_eq!(
            patterns("access_token_type=x access_token"),
            "access_token_type=x access_token"
        );
    }

    #[test]
    fn jwts_are_redacted_wherever_they_stand() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl-_";
        assert_eq!(
            redact(&format!("token ({jwt}) expired"), &[] as &[&str]),
            "token ([redacted]) expired"
        );
        assert_eq!(patterns(&format!("x{jwt}")), format!("x{jwt}"));
        // Without a dot it is a word that happens to start so.
        assert_eq!(patterns("eyJust a word"), "eyJust a word");
    }

    #[test]
    fn redaction_keeps_other_text_and_unicode_intact() {
        let text = "Zugriff verweigert — ünïcode ✓ Bearer 令牌 then ✓";
        assert_eq!(
            patterns(text),
            "Zugriff verweigert — ünïcode ✓ Bearer [redacted] then ✓"
        );
        assert_eq!(redact("", &[SECRET]), "");
    }

    #[test]
    fn summaries_are_bounded_one_line_and_cut_on_a_char_boundary() {
        assert_eq!(summarise("short\r\nline", 500), "short  line");
        let long = "é".repeat(10_000);
        let summary = summarise(&long, 100);
        // The marker names what was left out, so it may be a digit short of the limit.
        assert!((98..=100).contains(&summary.chars().count()), "{summary}");
        assert!(summary.starts_with("éé"), "{summary}");
        assert!(summary.ends_with("more characters cut]"), "{summary}");
        let left: usize = summary
            .split('[')
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert_eq!(summary.matches('é').count() + left, 10_000, "{summary}");
        // Exactly at the limit: untouched.
        assert_eq!(summarise(&"a".repeat(100), 100), "a".repeat(100));
        // A limit smaller than the marker still says the text was cut.
        assert!(summarise(&"a".repeat(100), 3).contains("cut"));
    }

    #[test]
    fn a_quote_redacts_before_it_cuts() {
        // A secret straddling the cut would leave half of it behind otherwise.
        let text = format!("{}{SECRET}", "x".repeat(MAX_QUOTED_CHARS - 10));
        let quote = quoted(&text, &[SECRET]);
        assert!(!quote.contains("Xy9"), "{quote}");
        assert!(quote.chars().count() <= MAX_QUOTED_CHARS);
    }
}
