//! docs/powerbi.md, kept true. The page is read when the test runs; each of its
//! `powerquery` blocks is read as Power Query reads it (a small reader of the
//! subset of M the page uses, below), the requests Power Query would send are
//! sent to the real server, and the answers are held to what the page says:
//! the columns listed after each block, every row through `@odata.nextLink`,
//! `$metadata`, the CSV header and its number of rows, and 401 without a
//! valid token. Edited copies of the blocks must fail the same checks.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use futures_util::StreamExt;
use reqwest::Url;
use serde_json::{json, Value};
use teams_usage_store::auth::{issue_token, Scopes};
use teams_usage_store::domain::TenantId;

use self::m::{Expr, Value as M};
use crate::helpers::{assert_graph_error, Backend, TestApp, READ};

backend_tests!(
    every_odata_feed_block_reads_every_stored_row,
    every_csv_block_downloads_the_columns_it_shows,
    a_block_edited_wrong_fails_its_check,
    the_blocks_requests_need_a_valid_token,
);

/// Fails the check it is in with a message, rather than panicking: the same
/// checks must fail, without a panic, for the edited blocks.
macro_rules! check {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

/// The page as it is now, not as it was when the test was built.
fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/powerbi.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("docs/powerbi.md: {e}"))
}

/// An Accept of the kind OData clients send: JSON with minimal metadata first.
const ODATA_ACCEPT: &str =
    "application/json;odata.metadata=minimal;q=1.0,application/json;q=0.9,application/xml;q=0.7";
const PAGE_SIZE: usize = 100;

// ---------------------------------------------------------------------------
// The page: its fenced blocks, and what each `powerquery` block sends.

struct Fence {
    info: String,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
}

fn fences(markdown: &str) -> Result<Vec<Fence>, String> {
    let mut fences = Vec::new();
    let mut open: Option<(Fence, usize)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let fence = Fence {
                        info: info.trim().to_owned(),
                        body: String::new(),
                        line: index + 1,
                    };
                    open = Some((fence, indent));
                }
            }
            Some((fence, fence_indent)) => {
                if trimmed.trim_end() == "```" {
                    fences.push(open.take().map(|(f, _)| f).unwrap());
                } else {
                    let unindented = line
                        .get(*fence_indent..)
                        .filter(|_| indent >= *fence_indent);
                    fence.body.push_str(unindented.unwrap_or(trimmed));
                    fence.body.push('\n');
                }
            }
        }
    }
    match open {
        Some((fence, _)) => Err(format!(
            "the block opened on line {} is not closed",
            fence.line
        )),
        None => Ok(fences),
    }
}

/// One request as Power Query would send it.
#[derive(Debug, Clone)]
struct Request {
    url: Url,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum Source {
    /// `OData.Feed(...)`.
    Feed(Request),
    /// `Csv.Document(Web.Contents(...), options)`, promoted and typed.
    Csv {
        request: Request,
        /// `Columns = n` of `Csv.Document`, if given.
        columns: Option<usize>,
        /// `Table.TransformColumnTypes`: each column and its type, as written.
        typed: Vec<(String, String)>,
    },
}

/// A block that reads the store, with the first line of the `text` block
/// after it: the columns the page says the query's table has.
#[derive(Debug, Clone)]
struct Snippet {
    line: usize,
    m: String,
    shown: String,
    source: Source,
}

impl Snippet {
    fn request(&self) -> &Request {
        match &self.source {
            Source::Feed(request) | Source::Csv { request, .. } => request,
        }
    }

    fn is_feed(&self) -> bool {
        matches!(self.source, Source::Feed(_))
    }
}

/// Every block that reads the store, read with `origin` as the `Origin`
/// parameter and `token` as `Token`. Every `powerquery` block must be a
/// parameter or read the store, and each that reads it must be followed by a
/// `text` block.
fn snippets(markdown: &str, origin: &str, token: &str) -> Result<Vec<Snippet>, String> {
    let fences = fences(markdown)?;
    let mut snippets = Vec::new();
    for (index, fence) in fences.iter().enumerate() {
        if fence.info != "powerquery" {
            continue;
        }
        let at = |e: String| format!("docs/powerbi.md, the block on line {}: {e}", fence.line);
        if m::is_parameter(&fence.body).map_err(at)? {
            continue;
        }
        let shown = match fences.get(index + 1) {
            Some(next) if next.info == "text" => next
                .body
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
                .trim()
                .to_owned(),
            _ => return Err(at("no ```text block of its columns follows it".into())),
        };
        snippets.push(read_snippet(fence.line, &fence.body, &shown, origin, token).map_err(at)?);
    }
    Ok(snippets)
}

fn read_snippet(
    line: usize,
    m: &str,
    shown: &str,
    origin: &str,
    token: &str,
) -> Result<Snippet, String> {
    let source = m::read_source(m, origin, token)?;
    Ok(Snippet {
        line,
        m: m.to_owned(),
        shown: shown.to_owned(),
        source,
    })
}

// ---------------------------------------------------------------------------
// A reader of the subset of M the page uses: text literals (`""` escapes a
// quote), numbers, `null`, `true`, `false`, names (`OData.Feed`, `#"$format"`),
// `&` of texts, records `[a = ..., #"$x" = ...]`, lists `{...}`, `type date`,
// calls, one `let ... in ...`, and `value meta [...]` for a parameter. Anything
// else is an error, so a block cannot say more than this test reads.

mod m {
    use std::collections::HashMap;

    use reqwest::Url;

    use super::{Request, Source};

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Text(String),
        Number(String),
        Name(String),
        /// `#"..."`: a name that may hold any character, never a keyword.
        Quoted(String),
        Punct(char),
    }

    /// The words M reserves: none is a name, and only `null`, `true`,
    /// `false`, `let`, `in`, `meta` and `type` are read here.
    const KEYWORDS: &str = "and as each else error false if in is let meta not null or otherwise \
                            section shared then true try type";

    fn is_keyword(word: &str) -> bool {
        KEYWORDS.split_whitespace().any(|k| k == word)
    }
    const PRIMITIVE_TYPES: [&str; 8] = [
        "any", "date", "datetime", "logical", "number", "text", "time", "duration",
    ];

    fn lex(source: &str) -> Result<Vec<(Token, usize)>, String> {
        let chars: Vec<char> = source.chars().collect();
        let mut tokens = Vec::new();
        let mut line = 1;
        let mut i = 0;
        // A text literal from after its opening quote; `i` ends after the closing one.
        let text = |i: &mut usize, line: &mut usize| -> Result<String, String> {
            let mut out = String::new();
            loop {
                match chars.get(*i) {
                    None => return Err(format!("line {line}: a text is not closed")),
                    Some('"') if chars.get(*i + 1) == Some(&'"') => {
                        out.push('"');
                        *i += 2;
                    }
                    Some('"') => {
                        *i += 1;
                        return Ok(out);
                    }
                    Some('#') if chars.get(*i + 1) == Some(&'(') => {
                        return Err(format!(
                            "line {line}: escapes such as #(lf) are not read by this test"
                        ))
                    }
                    Some(&c) => {
                        if c == '\n' {
                            *line += 1;
                        }
                        out.push(c);
                        *i += 1;
                    }
                }
            }
        };
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            let start_line = line;
            match c {
                '\n' => {
                    line += 1;
                    i += 1;
                }
                c if c.is_whitespace() => i += 1,
                '/' if next == Some('/') => {
                    while chars.get(i).is_some_and(|&c| c != '\n') {
                        i += 1;
                    }
                }
                '/' if next == Some('*') => {
                    i += 2;
                    loop {
                        match chars.get(i) {
                            None => {
                                return Err(format!("line {start_line}: a comment is not closed"))
                            }
                            Some('*') if chars.get(i + 1) == Some(&'/') => {
                                i += 2;
                                break;
                            }
                            Some(&c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                i += 1;
                            }
                        }
                    }
                }
                '"' => {
                    i += 1;
                    tokens.push((Token::Text(text(&mut i, &mut line)?), start_line));
                }
                '#' if next == Some('"') => {
                    i += 2;
                    tokens.push((Token::Quoted(text(&mut i, &mut line)?), start_line));
                }
                c if c.is_ascii_digit() => {
                    let begin = i;
                    while chars
                        .get(i)
                        .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                    {
                        i += 1;
                    }
                    tokens.push((Token::Number(chars[begin..i].iter().collect()), start_line));
                }
                c if c.is_alphabetic() || c == '_' => {
                    let begin = i;
                    loop {
                        match chars.get(i) {
                            Some(c) if c.is_alphanumeric() || *c == '_' => i += 1,
                            // A dot inside a name (`OData.Feed`), when a letter follows.
                            Some('.')
                                if chars
                                    .get(i + 1)
                                    .is_some_and(|c| c.is_alphabetic() || *c == '_') =>
                            {
                                i += 1
                            }
                            _ => break,
                        }
                    }
                    tokens.push((Token::Name(chars[begin..i].iter().collect()), start_line));
                }
                '(' | ')' | '[' | ']' | '{' | '}' | ',' | '=' | '&' => {
                    tokens.push((Token::Punct(c), start_line));
                    i += 1;
                }
                other => {
                    return Err(format!(
                        "line {start_line}: `{other}` is not in the M this test reads"
                    ))
                }
            }
        }
        Ok(tokens)
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum Expr {
        Text(String),
        Number(f64),
        Null,
        Logical(bool),
        Name(String),
        /// `type date`.
        Type(String),
        Concat(Vec<Expr>),
        Record(Vec<(String, Expr)>),
        List(Vec<Expr>),
        Call(String, Vec<Expr>),
        Let(Vec<(String, Expr)>, Box<Expr>),
        Meta(Box<Expr>, Box<Expr>),
    }

    struct Parser {
        tokens: Vec<(Token, usize)>,
        position: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<&Token> {
            self.tokens.get(self.position).map(|(t, _)| t)
        }

        fn line(&self) -> usize {
            self.tokens
                .get(self.position)
                .or(self.tokens.last())
                .map_or(1, |(_, line)| *line)
        }

        fn fail<T>(&self, message: impl std::fmt::Display) -> Result<T, String> {
            Err(format!("line {}: {message}", self.line()))
        }

        fn next(&mut self) -> Result<Token, String> {
            match self.tokens.get(self.position) {
                Some((token, _)) => {
                    self.position += 1;
                    Ok(token.clone())
                }
                None => self.fail("the query ends too soon"),
            }
        }

        fn eat(&mut self, punct: char) -> bool {
            let found = self.peek() == Some(&Token::Punct(punct));
            if found {
                self.position += 1;
            }
            found
        }

        fn expect(&mut self, punct: char) -> Result<(), String> {
            if self.eat(punct) {
                Ok(())
            } else {
                self.fail(format!("expected `{punct}`, found {:?}", self.peek()))
            }
        }

        fn keyword(&mut self, word: &str) -> bool {
            let found = matches!(self.peek(), Some(Token::Name(n)) if n == word);
            if found {
                self.position += 1;
            }
            found
        }

        /// A step's or a field's name.
        fn name(&mut self) -> Result<String, String> {
            match self.next()? {
                Token::Name(n) if !is_keyword(&n) => Ok(n),
                Token::Quoted(n) => Ok(n),
                other => self.fail(format!("expected a name, found {other:?}")),
            }
        }

        fn expression(&mut self) -> Result<Expr, String> {
            if self.keyword("let") {
                let mut steps: Vec<(String, Expr)> = Vec::new();
                loop {
                    let name = self.name()?;
                    self.expect('=')?;
                    let value = self.expression()?;
                    if steps.iter().any(|(n, _)| *n == name) {
                        return self.fail(format!("the step {name} is defined twice"));
                    }
                    steps.push((name, value));
                    if !self.eat(',') {
                        break;
                    }
                }
                if !self.keyword("in") {
                    return self.fail(format!("expected `in`, found {:?}", self.peek()));
                }
                let body = self.expression()?;
                return Ok(Expr::Let(steps, Box::new(body)));
            }
            let value = self.concatenation()?;
            if self.keyword("meta") {
                let meta = self.concatenation()?;
                return Ok(Expr::Meta(Box::new(value), Box::new(meta)));
            }
            Ok(value)
        }

        fn concatenation(&mut self) -> Result<Expr, String> {
            let mut parts = vec![self.unary()?];
            while self.eat('&') {
                parts.push(self.unary()?);
            }
            Ok(if parts.len() == 1 {
                parts.remove(0)
            } else {
                Expr::Concat(parts)
            })
        }

        fn unary(&mut self) -> Result<Expr, String> {
            if self.keyword("type") {
                return match self.next()? {
                    Token::Name(n) if PRIMITIVE_TYPES.contains(&n.as_str()) => Ok(Expr::Type(n)),
                    other => self.fail(format!("expected a primitive type, found {other:?}")),
                };
            }
            let primary = self.primary()?;
            if let Expr::Name(function) = &primary {
                if self.eat('(') {
                    let mut arguments = Vec::new();
                    if !self.eat(')') {
                        loop {
                            arguments.push(self.expression()?);
                            if !self.eat(',') {
                                break;
                            }
                        }
                        self.expect(')')?;
                    }
                    return Ok(Expr::Call(function.clone(), arguments));
                }
            }
            Ok(primary)
        }

        fn primary(&mut self) -> Result<Expr, String> {
            match self.next()? {
                Token::Text(t) => Ok(Expr::Text(t)),
                Token::Number(n) => match n.parse() {
                    Ok(number) => Ok(Expr::Number(number)),
                    Err(_) => self.fail(format!("{n} is not a number")),
                },
                Token::Name(n) => match n.as_str() {
                    "null" => Ok(Expr::Null),
                    "true" => Ok(Expr::Logical(true)),
                    "false" => Ok(Expr::Logical(false)),
                    keyword if is_keyword(keyword) => {
                        self.fail(format!("`{keyword}` is not in the M this test reads"))
                    }
                    _ => Ok(Expr::Name(n)),
                },
                Token::Quoted(n) => Ok(Expr::Name(n)),
                Token::Punct('[') => {
                    let mut fields: Vec<(String, Expr)> = Vec::new();
                    if self.eat(']') {
                        return Ok(Expr::Record(fields));
                    }
                    loop {
                        let name = self.name()?;
                        self.expect('=')?;
                        let value = self.expression()?;
                        if fields.iter().any(|(n, _)| *n == name) {
                            return self.fail(format!("the field {name} is given twice"));
                        }
                        fields.push((name, value));
                        if !self.eat(',') {
                            break;
                        }
                    }
                    self.expect(']')?;
                    Ok(Expr::Record(fields))
                }
                Token::Punct('{') => {
                    let mut items = Vec::new();
                    if self.eat('}') {
                        return Ok(Expr::List(items));
                    }
                    loop {
                        items.push(self.expression()?);
                        if !self.eat(',') {
                            break;
                        }
                    }
                    self.expect('}')?;
                    Ok(Expr::List(items))
                }
                Token::Punct('(') => {
                    let inner = self.expression()?;
                    self.expect(')')?;
                    Ok(inner)
                }
                other => self.fail(format!("unexpected {other:?}")),
            }
        }
    }

    pub fn parse(source: &str) -> Result<Expr, String> {
        let mut parser = Parser {
            tokens: lex(source)?,
            position: 0,
        };
        let expression = parser.expression()?;
        if parser.position != parser.tokens.len() {
            return parser.fail(format!("unexpected {:?} after the query", parser.peek()));
        }
        Ok(expression)
    }

    /// What an expression of the subset evaluates to. Tables are never
    /// computed: the calls that make them are read where they stand.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Text(String),
        Number(f64),
        Null,
        Logical(bool),
        Record(Vec<(String, Value)>),
        List(Vec<Value>),
        /// `type date`, or a library value such as `Int64.Type`.
        Type(String),
        /// A library constant such as `QuoteStyle.None`.
        Constant(String),
    }

    /// The steps of the query, and the two parameters.
    pub struct Scope<'a> {
        steps: HashMap<&'a str, &'a Expr>,
        parameters: [(&'static str, String); 2],
    }

    impl<'a> Scope<'a> {
        pub fn new(steps: &'a [(String, Expr)], origin: &str, token: &str) -> Self {
            Self {
                steps: steps.iter().map(|(n, e)| (n.as_str(), e)).collect(),
                parameters: [("Origin", origin.to_owned()), ("Token", token.to_owned())],
            }
        }

        /// `expression`, or the expression of the step it names, followed to the end.
        pub fn resolve(&self, mut expression: &'a Expr) -> &'a Expr {
            for _ in 0..=self.steps.len() {
                match expression {
                    Expr::Name(n) if self.steps.contains_key(n.as_str()) => {
                        expression = self.steps[n.as_str()];
                    }
                    _ => break,
                }
            }
            expression
        }

        pub fn eval(&self, expression: &'a Expr) -> Result<Value, String> {
            self.eval_at(expression, 0)
        }

        fn eval_at(&self, expression: &'a Expr, depth: usize) -> Result<Value, String> {
            if depth > 64 {
                return Err("the steps refer to each other in a loop".into());
            }
            Ok(match expression {
                Expr::Text(t) => Value::Text(t.clone()),
                Expr::Number(n) => Value::Number(*n),
                Expr::Null => Value::Null,
                Expr::Logical(b) => Value::Logical(*b),
                Expr::Type(t) => Value::Type(t.clone()),
                Expr::Name(n) => {
                    if let Some(step) = self.steps.get(n.as_str()) {
                        return self.eval_at(step, depth + 1);
                    }
                    if let Some((_, value)) = self.parameters.iter().find(|(p, _)| p == n) {
                        return Ok(Value::Text(value.clone()));
                    }
                    match n.split_once('.') {
                        Some((_, "Type")) => Value::Type(n.clone()),
                        Some(_) => Value::Constant(n.clone()),
                        None => {
                            return Err(format!(
                                "`{n}` is neither a step of the query nor the parameter Origin or Token"
                            ))
                        }
                    }
                }
                Expr::Concat(parts) => {
                    let mut joined = String::new();
                    for part in parts {
                        match self.eval_at(part, depth + 1)? {
                            Value::Text(t) => joined.push_str(&t),
                            other => return Err(format!("`&` joins texts here, not {other:?}")),
                        }
                    }
                    Value::Text(joined)
                }
                Expr::Record(fields) => Value::Record(
                    fields
                        .iter()
                        .map(|(n, e)| Ok((n.clone(), self.eval_at(e, depth + 1)?)))
                        .collect::<Result<_, String>>()?,
                ),
                Expr::List(items) => Value::List(
                    items
                        .iter()
                        .map(|e| self.eval_at(e, depth + 1))
                        .collect::<Result<_, String>>()?,
                ),
                Expr::Call(function, _) => {
                    return Err(format!("{function}(...) is not a value this test computes"))
                }
                Expr::Let(..) | Expr::Meta(..) => {
                    return Err("a nested `let` or `meta` is not read by this test".into())
                }
            })
        }
    }

    /// Every call in `expression`, outermost first.
    fn calls<'a>(expression: &'a Expr, found: &mut Vec<&'a Expr>) {
        match expression {
            Expr::Call(_, arguments) => {
                found.push(expression);
                arguments.iter().for_each(|a| calls(a, found));
            }
            Expr::Concat(items) | Expr::List(items) => items.iter().for_each(|i| calls(i, found)),
            Expr::Record(fields) => fields.iter().for_each(|(_, e)| calls(e, found)),
            Expr::Let(steps, body) => {
                steps.iter().for_each(|(_, e)| calls(e, found));
                calls(body, found);
            }
            Expr::Meta(value, meta) => {
                calls(value, found);
                calls(meta, found);
            }
            _ => {}
        }
    }

    /// True for a parameter query: a text `meta [IsParameterQuery = true, ...]`.
    pub fn is_parameter(source: &str) -> Result<bool, String> {
        let Expr::Meta(value, meta) = parse(source)? else {
            return Ok(false);
        };
        let scope = Scope::new(&[], "", "");
        let Value::Text(value) = scope.eval(&value)? else {
            return Err("a parameter's value is not a text".into());
        };
        let meta = record(scope.eval(&meta)?, "the parameter's meta")?;
        let field = |name: &str| meta.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        if field("IsParameterQuery") != Some(&Value::Logical(true)) {
            return Err("a `meta` record without IsParameterQuery = true".into());
        }
        if field("Type") != Some(&Value::Text("Text".into())) {
            return Err("a parameter whose Type is not \"Text\"".into());
        }
        // An origin: scheme, host and port, which `RelativePath` is joined to.
        if value.starts_with("http") {
            let url = Url::parse(&value).map_err(|e| format!("{value}: {e}"))?;
            if url.path() != "/" || value.ends_with('/') || url.query().is_some() {
                return Err(format!("{value} is more than an origin"));
            }
        }
        Ok(true)
    }

    fn record(value: Value, what: &str) -> Result<Vec<(String, Value)>, String> {
        match value {
            Value::Record(fields) => Ok(fields),
            other => Err(format!("{what} is not a record but {other:?}")),
        }
    }

    fn text(value: Value, what: &str) -> Result<String, String> {
        match value {
            Value::Text(t) => Ok(t),
            other => Err(format!("{what} is not a text but {other:?}")),
        }
    }

    fn texts(value: Value, what: &str) -> Result<Vec<(String, String)>, String> {
        record(value, what)?
            .into_iter()
            .map(|(n, v)| Ok((n.clone(), text(v, &format!("{what} {n}"))?)))
            .collect()
    }

    /// A `Query` record: each field an option, a list of texts repeating it.
    fn query(value: Value) -> Result<Vec<(String, String)>, String> {
        let mut options = Vec::new();
        for (name, value) in record(value, "Query")? {
            match value {
                Value::Text(t) => options.push((name, t)),
                Value::List(items) => {
                    for item in items {
                        options.push((name.clone(), text(item, &format!("Query {name}"))?));
                    }
                }
                other => return Err(format!("Query {name} is {other:?}, not a text")),
            }
        }
        Ok(options)
    }

    /// Percent-encodes all but the unreserved characters, as a URL-building
    /// client may: `$` too.
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    /// The URL `text` (its spaces and quotes escaped as Power Query escapes
    /// them), with the `Query` options appended.
    fn url(text: &str, options: &[(String, String)], origin: &str) -> Result<Url, String> {
        if !text.starts_with(&format!("{origin}/")) {
            return Err(format!(
                "the URL {text} is not built on the Origin parameter ({origin})"
            ));
        }
        let mut url = Url::parse(text).map_err(|e| format!("{text}: {e}"))?;
        if !options.is_empty() {
            let appended: Vec<String> = options
                .iter()
                .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
                .collect();
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{}", appended.join("&")),
                _ => appended.join("&"),
            };
            url.set_query(Some(&query));
        }
        Ok(url)
    }

    fn arguments(call: &Expr) -> &[Expr] {
        match call {
            Expr::Call(_, arguments) => arguments,
            _ => &[],
        }
    }

    fn function(call: &Expr) -> &str {
        match call {
            Expr::Call(function, _) => function,
            _ => "",
        }
    }

    /// The one source a block reads, and the requests it makes.
    pub fn read_source(source: &str, origin: &str, token: &str) -> Result<Source, String> {
        let expression = parse(source)?;
        let steps: &[(String, Expr)] = match &expression {
            Expr::Let(steps, _) => steps,
            _ => &[],
        };
        let scope = Scope::new(steps, origin, token);
        let mut found = Vec::new();
        calls(&expression, &mut found);
        let named = |name: &str| -> Vec<&Expr> {
            found
                .iter()
                .copied()
                .filter(|c| function(c) == name)
                .collect()
        };
        for call in &found {
            let known = [
                "OData.Feed",
                "Web.Contents",
                "Csv.Document",
                "Table.PromoteHeaders",
                "Table.TransformColumnTypes",
            ];
            if !known.contains(&function(call)) {
                return Err(format!(
                    "{} is not among the functions this test reads",
                    function(call)
                ));
            }
        }
        let (feeds, webs) = (named("OData.Feed"), named("Web.Contents"));
        match (feeds.as_slice(), webs.as_slice()) {
            ([feed], []) if found.len() == 1 => odata_feed(arguments(feed), &scope, origin),
            ([], [web]) => csv(web, &named, &scope, origin),
            ([], []) => Err("neither a parameter nor a query that reads the store".into()),
            _ => Err(
                "a block reads the store once: one OData.Feed alone, or one Web.Contents read by Csv.Document"
                    .into(),
            ),
        }
    }

    fn odata_feed(arguments: &[Expr], scope: &Scope<'_>, origin: &str) -> Result<Source, String> {
        let [uri, rest @ ..] = arguments else {
            return Err("OData.Feed without its URL".into());
        };
        if rest.len() > 2 {
            return Err("OData.Feed takes a URL, headers and options".into());
        }
        let uri = text(scope.eval(uri)?, "OData.Feed's URL")?;
        let mut headers = Vec::new();
        match rest.first().map(|h| scope.eval(h)).transpose()? {
            None | Some(Value::Null) => {}
            Some(record) => headers.extend(texts(record, "OData.Feed's headers")?),
        }
        let options = match rest.get(1) {
            Some(options) => record(scope.eval(options)?, "OData.Feed's options")?,
            None => Vec::new(),
        };
        let mut implementation = None;
        let mut options_query = Vec::new();
        for (name, value) in options {
            match name.as_str() {
                "Headers" => headers.extend(texts(value, "Headers")?),
                "Query" => options_query = query(value)?,
                "Implementation" => implementation = Some(text(value, "Implementation")?),
                "ODataVersion" if value == Value::Number(4.0) => {}
                "ODataVersion" => {
                    return Err(format!("ODataVersion {value:?}: the service is OData 4"))
                }
                "ExcludedFromCacheKey"
                | "ApiKeyName"
                | "Timeout"
                | "EnableBatch"
                | "MaxUriLength"
                | "Concurrent"
                | "FunctionOverloads"
                | "MoreColumns"
                | "IncludeAnnotations"
                | "IncludeMetadataAnnotations"
                | "OmitValues" => {}
                other => return Err(format!("OData.Feed has no option {other}")),
            }
        }
        if implementation.as_deref() != Some("2.0") {
            return Err(format!(
                "the page promises Implementation = \"2.0\", the block has {implementation:?}"
            ));
        }
        Ok(Source::Feed(Request {
            url: url(&uri, &options_query, origin)?,
            headers,
        }))
    }

    fn csv<'a>(
        web: &'a Expr,
        named: &dyn Fn(&str) -> Vec<&'a Expr>,
        scope: &Scope<'a>,
        origin: &str,
    ) -> Result<Source, String> {
        let (base, options) = match arguments(web) {
            [base] => (base, Vec::new()),
            [base, options] => (base, record(scope.eval(options)?, "Web.Contents' options")?),
            _ => return Err("Web.Contents takes a URL and options".into()),
        };
        let base = text(scope.eval(base)?, "Web.Contents' URL")?;
        if base != origin {
            return Err(format!(
                "Web.Contents' URL is {base}, not the Origin parameter alone: \
                 the rest belongs in RelativePath and Query, for the service's scheduled refresh"
            ));
        }
        let (mut relative_path, mut options_query, mut headers) = (None, Vec::new(), Vec::new());
        for (name, value) in options {
            match name.as_str() {
                "RelativePath" => relative_path = Some(text(value, "RelativePath")?),
                "Query" => options_query = query(value)?,
                "Headers" => headers = texts(value, "Headers")?,
                "Content" => return Err("Content would make the request a POST".into()),
                "ApiKeyName"
                | "Timeout"
                | "ExcludedFromCacheKey"
                | "IsRetry"
                | "ManualStatusHandling"
                | "ManualCredentials" => {}
                other => return Err(format!("Web.Contents has no option {other}")),
            }
        }
        let joined = match relative_path {
            Some(path) => format!("{}/{path}", base.trim_end_matches('/')),
            None => base.clone(),
        };
        let request = Request {
            url: url(&joined, &options_query, origin)?,
            headers,
        };

        // Csv.Document(<the Web.Contents>, options), promoted, then typed.
        let [document] = named("Csv.Document")[..] else {
            return Err("Web.Contents is read by one Csv.Document".into());
        };
        let (read, csv_options) = match arguments(document) {
            [read] => (read, Vec::new()),
            [read, options] => (
                read,
                record(scope.eval(options)?, "Csv.Document's options")?,
            ),
            _ => return Err("Csv.Document takes the contents and options".into()),
        };
        if !std::ptr::eq(scope.resolve(read), web) {
            return Err("Csv.Document does not read the Web.Contents".into());
        }
        let mut columns = None;
        let mut encoding = None;
        for (name, value) in csv_options {
            match (name.as_str(), value) {
                ("Delimiter", Value::Text(d)) if d == "," => {}
                ("Columns", Value::Number(n)) if n.fract() == 0.0 && n >= 1.0 => {
                    columns = Some(n as usize)
                }
                ("Encoding", Value::Number(n)) => encoding = Some(n),
                ("QuoteStyle", Value::Constant(c))
                    if c == "QuoteStyle.None" || c == "QuoteStyle.Csv" => {}
                ("CsvStyle", Value::Constant(_)) => {}
                (name, value) => {
                    return Err(format!(
                        "Csv.Document's option {name} = {value:?} is not read here"
                    ))
                }
            }
        }
        if encoding != Some(65001.0) {
            return Err(format!(
                "the page promises Encoding = 65001 (UTF-8), the block has {encoding:?}"
            ));
        }
        let [promote] = named("Table.PromoteHeaders")[..] else {
            return Err("the CSV's first line is promoted once, with Table.PromoteHeaders".into());
        };
        if !arguments(promote)
            .first()
            .is_some_and(|a| std::ptr::eq(scope.resolve(a), document))
        {
            return Err("Table.PromoteHeaders does not promote the Csv.Document".into());
        }
        let [transform] = named("Table.TransformColumnTypes")[..] else {
            return Err("the columns are typed once, with Table.TransformColumnTypes".into());
        };
        let (promoted, types) = match arguments(transform) {
            [promoted, types] => (promoted, types),
            _ => return Err("Table.TransformColumnTypes takes a table and a list".into()),
        };
        if !std::ptr::eq(scope.resolve(promoted), promote) {
            return Err("Table.TransformColumnTypes does not type the promoted table".into());
        }
        let Value::List(pairs) = scope.eval(types)? else {
            return Err("Table.TransformColumnTypes' columns are not a list".into());
        };
        let mut typed = Vec::new();
        for pair in pairs {
            match pair {
                Value::List(pair) => match pair.as_slice() {
                    [Value::Text(column), Value::Type(type_name)] => {
                        typed.push((column.clone(), type_name.clone()))
                    }
                    other => return Err(format!("{other:?} is not {{column, type}}")),
                },
                other => return Err(format!("{other:?} is not {{column, type}}")),
            }
        }
        Ok(Source::Csv {
            request,
            columns,
            typed,
        })
    }
}

// ---------------------------------------------------------------------------
// The rows the checks read: more than a page, all four periods, nulls and
// values in chromeOS and linux, dates on both sides of 2025-01-01.

struct Stored {
    rows: Vec<Value>,
}

impl Stored {
    fn ids(&self) -> BTreeSet<String> {
        self.rows
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The newest row of `period`: what the report function answers.
    fn latest(&self, period: &str) -> Option<&Value> {
        self.rows
            .iter()
            .filter(|r| r["reportPeriod"] == period)
            .max_by_key(|r| r["reportRefreshDate"].as_str().unwrap().to_owned())
    }
}

fn history() -> Vec<Value> {
    let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let mut rows = Vec::new();
    for (period, first, count, step) in [
        ("7", day("2024-10-01"), 130, 1),
        ("30", day("2024-12-01"), 20, 2),
        ("90", day("2024-12-20"), 6, 3),
        ("180", day("2024-11-01"), 4, 30),
    ] {
        for i in 0..count {
            let mut row = json!({
                "reportRefreshDate": (first + Duration::days(i * step)).to_string(),
                "web": i, "windowsPhone": 1, "androidPhone": 2 * i, "ios": 3,
                "mac": 4, "windows": 100 + i, "reportPeriod": period,
            });
            if i % 3 != 0 {
                row["chromeOS"] = json!(i % 7);
            }
            if i % 2 == 0 {
                row["linux"] = json!(i % 5);
            }
            rows.push(row);
        }
    }
    rows
}

async fn store_history(app: &TestApp) -> Stored {
    let rows = futures_util::stream::iter(history())
        .map(|row| async move {
            let response = app.post_row(&row).await;
            assert_eq!(response.status().as_u16(), 201, "{row}");
            response.json::<Value>().await.unwrap()
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    assert!(rows.len() > PAGE_SIZE);
    Stored { rows }
}

// ---------------------------------------------------------------------------
// The checks: what Power Query would be answered, held to the page.

async fn send(
    app: &TestApp,
    url: &Url,
    headers: &[(String, String)],
    extra: &[(&str, &str)],
) -> Result<reqwest::Response, String> {
    let mut request = app.client.get(url.clone());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.map_err(|e| format!("GET {url}: {e}"))
}

/// A 200 of `content_type`, with `OData-Version: 4.0` as every answer has.
async fn expect_ok(response: reqwest::Response, content_type: &str) -> Result<Vec<u8>, String> {
    let (url, status) = (response.url().clone(), response.status());
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (received_type, odata_version) = (header("content-type"), header("odata-version"));
    let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
    check!(
        status == 200,
        "GET {url} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    check!(
        received_type.starts_with(content_type),
        "GET {url}: content-type {received_type}, not {content_type}"
    );
    check!(
        odata_version == "4.0",
        "GET {url}: OData-Version {odata_version:?}"
    );
    Ok(body)
}

async fn get_json(app: &TestApp, url: &Url, headers: &[(String, String)]) -> Result<Value, String> {
    let extra = [("accept", ODATA_ACCEPT), ("odata-maxversion", "4.0")];
    let body = expect_ok(send(app, url, headers, &extra).await?, "application/json").await?;
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: {e}"))
}

/// The URL's query option `name`, decoded.
fn option(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// `v1.0` or `beta`: the URL's first segment.
fn version(url: &Url) -> Result<String, String> {
    let segment = url
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or_default();
    check!(
        segment == "v1.0" || segment == "beta",
        "{url} is under neither /v1.0 nor /beta"
    );
    Ok(segment.to_owned())
}

/// How many rows `filter` matches, from the collection's own `/$count`.
async fn count(
    app: &TestApp,
    version: &str,
    filter: Option<&str>,
    headers: &[(String, String)],
) -> Result<usize, String> {
    let mut url = Url::parse(&app.url(&format!(
        "/{version}/reports/teamsDeviceUsageDistributionUserCounts/$count"
    )))
    .unwrap();
    if let Some(filter) = filter {
        url.query_pairs_mut().append_pair("$filter", filter);
    }
    let body = expect_ok(send(app, &url, headers, &[]).await?, "text/plain").await?;
    String::from_utf8_lossy(&body)
        .trim()
        .parse()
        .map_err(|e| format!("GET {url}: {e}"))
}

/// The properties `$metadata` declares, in its order: the key `id` of the
/// base type, then the row's own. Power Query makes its columns of them.
async fn declared_properties(
    app: &TestApp,
    url: &Url,
    headers: &[(String, String)],
) -> Result<Vec<String>, String> {
    let extra = [("accept", "application/xml")];
    let body = expect_ok(send(app, url, headers, &extra).await?, "application/xml").await?;
    let csdl = String::from_utf8_lossy(&body);
    let names: Vec<String> = csdl
        .split("<Property Name=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned()))
        .collect();
    check!(!names.is_empty(), "{url} declares no property:\n{csdl}");
    Ok(names)
}

/// Every row of the feed from `first`, following `@odata.nextLink` as Power
/// Query does; each page full but the last. Returns the rows and the pages.
async fn follow(
    app: &TestApp,
    mut page: Value,
    headers: &[(String, String)],
    page_size: usize,
) -> Result<(Vec<Value>, usize), String> {
    let mut rows = Vec::new();
    let mut pages = 1;
    loop {
        let value = page["value"]
            .as_array()
            .ok_or_else(|| format!("a page without value: {page}"))?;
        rows.extend(value.iter().cloned());
        let Some(next) = page["@odata.nextLink"].as_str() else {
            check!(
                value.len() <= page_size,
                "a last page of {} rows",
                value.len()
            );
            return Ok((rows, pages));
        };
        check!(
            value.len() == page_size,
            "page {pages} has {} rows and a next link; pages hold {page_size}",
            value.len()
        );
        check!(pages < 1000, "more than 1000 pages");
        let next = Url::parse(next).map_err(|e| format!("@odata.nextLink {next}: {e}"))?;
        check!(
            next.as_str().starts_with(&app.address),
            "@odata.nextLink {next} leaves the origin"
        );
        page = get_json(app, &next, headers).await?;
        pages += 1;
    }
}

fn listed(shown: &str) -> Vec<String> {
    shown.split(',').map(|c| c.trim().to_owned()).collect()
}

async fn check_feed(app: &TestApp, snippet: &Snippet, stored: &Stored) -> Result<(), String> {
    let Source::Feed(request) = &snippet.source else {
        return Err("not an OData.Feed block".into());
    };
    let (url, headers) = (&request.url, &request.headers);
    let version = version(url)?;
    let columns = listed(&snippet.shown);
    let first = get_json(app, url, headers).await?;

    // $metadata, where @odata.context points, declares the columns.
    let context = first["@odata.context"].as_str().unwrap_or_default();
    let metadata = context
        .split_once('#')
        .map(|(url, _)| url)
        .unwrap_or_default();
    check!(
        metadata == app.url(&format!("/{version}/$metadata")),
        "@odata.context {context:?} does not point at {{Origin}}/{version}/$metadata"
    );
    let declared = declared_properties(app, &Url::parse(metadata).unwrap(), headers).await?;
    let selected = option(url, "$select").map(|s| listed(&s));
    match &selected {
        Some(selected) => check!(
            columns == *selected,
            "the page lists {columns:?}, the block selects {selected:?}"
        ),
        None => check!(
            columns == declared,
            "the page lists {columns:?}; $metadata declares {declared:?}"
        ),
    }
    for column in &columns {
        check!(
            declared.contains(column),
            "$metadata does not declare {column}"
        );
    }

    // Every row, through the next links; each with the listed columns.
    let top = option(url, "$top").map(|t| t.parse::<usize>().unwrap_or(0));
    let (rows, pages) = follow(app, first, headers, top.unwrap_or(PAGE_SIZE)).await?;
    for row in &rows {
        let properties: Vec<&String> = row
            .as_object()
            .ok_or("a row is not an object")?
            .keys()
            .filter(|k| !k.starts_with('@'))
            .collect();
        for column in &columns {
            check!(row.get(column).is_some(), "a row without {column}: {row}");
        }
        for property in properties {
            check!(
                columns.contains(property) || (selected.is_none() && !declared.contains(property)),
                "a row has {property}, which the page does not list: {row}"
            );
        }
    }
    let filter = option(url, "$filter");
    let expected = count(app, &version, filter.as_deref(), headers).await?;
    check!(
        rows.len() == expected,
        "{} rows through {pages} pages; the filter matches {expected}",
        rows.len()
    );
    if filter.is_none() {
        check!(
            expected == stored.rows.len(),
            "the feed is not every stored row"
        );
    }
    if selected.is_none() {
        let ids: BTreeSet<String> = rows
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        check!(ids.len() == rows.len(), "a row came twice");
        if filter.is_none() {
            check!(
                ids == stored.ids(),
                "the feed's rows are not the stored rows"
            );
        }
    }

    // `$top` is the page size, not a limit: smaller pages, the same rows.
    if top.is_none() {
        let mut paged = url.clone();
        let query = paged
            .query()
            .map_or("$top=40".into(), |q| format!("{q}&$top=40"));
        paged.set_query(Some(&query));
        let first = get_json(app, &paged, headers).await?;
        let (small, small_pages) = follow(app, first, headers, 40).await?;
        check!(
            small.len() == rows.len() && small_pages > pages,
            "with $top=40: {} rows in {small_pages} pages, not {} rows",
            small.len(),
            rows.len()
        );
    }
    Ok(())
}

/// The CSV's header and data lines, after its BOM.
async fn get_csv(
    app: &TestApp,
    url: &Url,
    headers: &[(String, String)],
) -> Result<(String, Vec<String>, Vec<u8>), String> {
    let body = expect_ok(send(app, url, headers, &[]).await?, "text/csv").await?;
    let text = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .ok_or_else(|| format!("GET {url}: no UTF-8 byte-order mark"))?;
    let text = std::str::from_utf8(text).map_err(|e| format!("GET {url}: {e}"))?;
    check!(
        text.ends_with("\r\n"),
        "GET {url}: the file does not end with CRLF"
    );
    let mut lines = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    let header = lines.next().unwrap_or_default();
    Ok((header, lines.collect(), body))
}

async fn check_csv(app: &TestApp, snippet: &Snippet, stored: &Stored) -> Result<(), String> {
    let Source::Csv {
        request,
        columns,
        typed,
    } = &snippet.source
    else {
        return Err("not a Web.Contents block".into());
    };
    let (url, headers) = (&request.url, &request.headers);
    let (header, lines, body) = get_csv(app, url, headers).await?;
    check!(
        header == snippet.shown,
        "the file's header is\n  {header}\nthe page shows\n  {}",
        snippet.shown
    );
    let names: Vec<&str> = header.split(',').collect();
    if let Some(columns) = columns {
        check!(
            *columns == names.len(),
            "Columns = {columns}; the file has {}",
            names.len()
        );
    }
    let types: HashMap<&str, &str> = typed
        .iter()
        .map(|(c, t)| (c.as_str(), t.as_str()))
        .collect();
    let mut typed_names: Vec<&str> = typed.iter().map(|(c, _)| c.as_str()).collect();
    let mut header_names = names.clone();
    typed_names.sort_unstable();
    header_names.sort_unstable();
    check!(
        typed_names == header_names,
        "Table.TransformColumnTypes types {typed_names:?}; the file's columns are {header_names:?}"
    );
    for line in &lines {
        let fields: Vec<&str> = line.split(',').collect();
        check!(
            fields.len() == names.len(),
            "the line {line:?} has {} fields",
            fields.len()
        );
        for (name, field) in names.iter().zip(&fields) {
            let converts = match types[name] {
                "date" => NaiveDate::parse_from_str(field, "%Y-%m-%d").is_ok(),
                // An empty cell becomes null.
                "Int64.Type" => field.is_empty() || field.parse::<i64>().is_ok(),
                other => return Err(format!("the type {other} is not checked here")),
            };
            check!(converts, "{name} = {field:?} is not a {}", types[name]);
        }
    }

    let path = url.path().to_owned();
    let function = "/reports/getTeamsDeviceUsageDistributionUserCounts(period='D";
    if let Some(period) = path
        .split_once(function)
        .map(|(_, p)| p.trim_end_matches("')"))
    {
        // The report: the period's newest row.
        let latest = stored
            .latest(period)
            .ok_or("no row of the period is stored")?;
        let date = latest["reportRefreshDate"].as_str().unwrap_or_default();
        check!(
            lines.len() == 1 && lines[0].starts_with(&format!("{date},")),
            "the report is {lines:?}, not the row of {date}"
        );
        // The same file when the quotes and parentheses come percent-encoded.
        let mut encoded = url.clone();
        encoded.set_path(
            &path
                .replace('\'', "%27")
                .replace('(', "%28")
                .replace(')', "%29"),
        );
        let (_, _, same) = get_csv(app, &encoded, headers).await?;
        check!(same == body, "GET {encoded} answered another file");
    } else {
        let filter = option(url, "$filter");
        let expected = count(app, &version(url)?, filter.as_deref(), headers).await?;
        check!(
            lines.len() == expected,
            "{} rows in the file; the filter matches {expected}",
            lines.len()
        );
        if filter.is_none() {
            check!(
                expected == stored.rows.len(),
                "the file is not every stored row"
            );
        }
    }
    Ok(())
}

async fn check(app: &TestApp, snippet: &Snippet, stored: &Stored) -> Result<(), String> {
    match snippet.source {
        Source::Feed(_) => check_feed(app, snippet, stored).await,
        Source::Csv { .. } => check_csv(app, snippet, stored).await,
    }
}

/// The page's blocks that read the store, with a read-only token as `Token`.
async fn read_page(app: &TestApp) -> Vec<Snippet> {
    let token = app.token_for("default", READ).await;
    snippets(&page(), &app.address, &token).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------
// The tests.

async fn every_odata_feed_block_reads_every_stored_row(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let stored = store_history(&app).await;
    let feeds: Vec<Snippet> = read_page(&app)
        .await
        .into_iter()
        .filter(Snippet::is_feed)
        .collect();
    assert!(!feeds.is_empty(), "docs/powerbi.md has no OData.Feed block");
    for snippet in &feeds {
        check_feed(&app, snippet, &stored)
            .await
            .unwrap_or_else(|e| panic!("docs/powerbi.md, the block on line {}: {e}", snippet.line));
    }
}

async fn every_csv_block_downloads_the_columns_it_shows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let stored = store_history(&app).await;
    let csvs: Vec<Snippet> = read_page(&app)
        .await
        .into_iter()
        .filter(|s| !s.is_feed())
        .collect();
    let reports = |s: &&Snippet| s.request().url.path().contains("getTeams");
    assert!(
        csvs.iter().any(|s| !reports(&s)),
        "docs/powerbi.md has no Web.Contents block of the collection"
    );
    assert!(
        csvs.iter().any(|s| reports(&s)),
        "docs/powerbi.md has no Web.Contents block of the report function"
    );
    for snippet in &csvs {
        check_csv(&app, snippet, &stored)
            .await
            .unwrap_or_else(|e| panic!("docs/powerbi.md, the block on line {}: {e}", snippet.line));
    }
}

/// Each edit, applied to each block it fits, must make that block fail:
/// either it no longer reads, or the server's answer no longer matches.
async fn a_block_edited_wrong_fails_its_check(backend: Backend) {
    // Several edits are refused as bad tokens, more than the failure limit allows.
    let Some(app) = TestApp::spawn_with(backend, |s| s.auth_failures.max_failures = 0).await else {
        return;
    };
    let stored = store_history(&app).await;
    let token = app.token_for("default", READ).await;
    let snippets = read_page(&app).await;
    let edits: [(&str, &str, &str); 12] = [
        ("a wrong path", "reports/", "report/"),
        ("another version", "v1.0/", "v2.0/"),
        ("a misspelt $filter", "$filter", "$filtre"),
        ("a misspelt $format", "$format", "$fromat"),
        ("$select without its $", "$select", "select"),
        (
            "no Authorization header",
            "Authorization =",
            "Authorisation =",
        ),
        ("the token without Bearer", "\"Bearer \" & Token", "Token"),
        (
            "a host instead of Origin",
            "Origin",
            "\"https://usage.example.com\"",
        ),
        ("a misspelt option", "Implementation", "Implementaton"),
        ("the older implementation", "\"2.0\"", "\"1.0\""),
        (
            "a column the file lacks",
            "{\"iOS\", Int64.Type}",
            "{\"IOS\", Int64.Type}",
        ),
        ("a wrong column count", "Columns = ", "Columns = 1"),
    ];
    for (what, from, to) in edits {
        let mut applied = 0;
        for snippet in &snippets {
            let Some(at) = snippet.m.find(from) else {
                continue;
            };
            applied += 1;
            let edited = format!("{}{to}{}", &snippet.m[..at], &snippet.m[at + from.len()..]);
            let outcome =
                match read_snippet(snippet.line, &edited, &snippet.shown, &app.address, &token) {
                    Err(_) => continue,
                    Ok(edited) => check(&app, &edited, &stored).await,
                };
            assert!(
                outcome.is_err(),
                "the block on line {} with {what} passes its check:\n{edited}",
                snippet.line
            );
        }
        assert!(applied > 0, "no block has {from:?} to edit into {what}");
    }
    // The columns shown after a block, one left out.
    for snippet in &snippets {
        let (kept, _) = snippet.shown.rsplit_once(',').unwrap();
        let edited = Snippet {
            shown: kept.to_owned(),
            ..snippet.clone()
        };
        assert!(
            check(&app, &edited, &stored).await.is_err(),
            "the block on line {} passes with its last column not shown",
            snippet.line
        );
    }
}

/// The page says the header is required and a token that expired fails the
/// refresh with 401 InvalidAuthenticationToken; so does a revoked one.
async fn the_blocks_requests_need_a_valid_token(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.auth_failures.max_failures = 0).await else {
        return;
    };
    let tenant = TenantId::parse("default").unwrap();
    let now = Utc::now();
    let expired = issue_token(
        tenant.clone(),
        "powerbi".into(),
        Scopes::parse(READ).unwrap(),
        Some(now - Duration::days(1)),
        now - Duration::days(366),
    );
    app.store.insert_token(&expired.stored).await.unwrap();
    let revoked = issue_token(
        tenant,
        "powerbi".into(),
        Scopes::parse(READ).unwrap(),
        None,
        now,
    );
    app.store.insert_token(&revoked.stored).await.unwrap();
    assert!(app
        .store
        .revoke_token(revoked.stored.id, now)
        .await
        .unwrap());

    let snippets = read_page(&app).await;
    assert!(snippets.iter().any(Snippet::is_feed) && snippets.iter().any(|s| !s.is_feed()));
    for snippet in &snippets {
        let url = &snippet.request().url;
        let response = send(&app, url, &[], &[]).await.unwrap();
        assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
        for token in [&expired.secret, &revoked.secret] {
            let with_token = read_snippet(
                snippet.line,
                &snippet.m,
                &snippet.shown,
                &app.address,
                token,
            )
            .unwrap();
            let request = with_token.request();
            assert!(request.headers.iter().any(|(n, _)| n == "Authorization"));
            let response = send(&app, &request.url, &request.headers, &[])
                .await
                .unwrap();
            assert_graph_error(response, 401, "InvalidAuthenticationToken").await;
        }
    }
}

// ---------------------------------------------------------------------------
// The reader itself, without a server.

#[test]
fn the_page_has_a_block_of_each_kind() {
    let snippets =
        snippets(&page(), "http://127.0.0.1:1", "tus_test").unwrap_or_else(|e| panic!("{e}"));
    assert!(snippets.iter().any(Snippet::is_feed), "no OData.Feed block");
    assert!(
        snippets.iter().any(|s| !s.is_feed()),
        "no Web.Contents block"
    );
    for snippet in &snippets {
        let request = snippet.request();
        assert!(
            request
                .headers
                .contains(&("Authorization".into(), "Bearer tus_test".into())),
            "the block on line {} sends {:?}",
            snippet.line,
            request.headers
        );
    }
}

#[test]
fn the_reader_takes_the_pages_subset_of_m() {
    let feed = r#"
        // A comment, and /* another */ one.
        let
            Url = Origin & "/v1.0/reports/x?$filter=reportPeriod eq '7'",
            #"The feed" = OData.Feed(Url, [#"client-request-id" = "say ""hi"""],
                [Headers = [Authorization = "Bearer " & Token], Implementation = "2.0",
                 Query = [#"$top" = "5", #"$orderby" = {"web", "ios desc"}]])
        in
            #"The feed"
    "#;
    let Source::Feed(request) = m::read_source(feed, "http://h:1", "t").unwrap() else {
        panic!("not a feed");
    };
    assert_eq!(
        request.url.as_str(),
        "http://h:1/v1.0/reports/x?$filter=reportPeriod%20eq%20%277%27\
         &%24top=5&%24orderby=web&%24orderby=ios%20desc"
    );
    assert_eq!(
        request.headers,
        [
            ("client-request-id".to_owned(), "say \"hi\"".to_owned()),
            ("Authorization".to_owned(), "Bearer t".to_owned())
        ]
    );
    assert_eq!(
        m::parse(r#""a" & "b" meta [IsParameterQuery = true]"#).unwrap(),
        Expr::Meta(
            Box::new(Expr::Concat(vec![
                Expr::Text("a".into()),
                Expr::Text("b".into())
            ])),
            Box::new(Expr::Record(vec![(
                "IsParameterQuery".into(),
                Expr::Logical(true)
            )]))
        )
    );
    let scope_steps = [("A".to_owned(), Expr::Text("x".into()))];
    let scope = m::Scope::new(&scope_steps, "o", "t");
    assert_eq!(
        scope.eval(&Expr::Name("Int64.Type".into())).unwrap(),
        M::Type("Int64.Type".into())
    );
    assert_eq!(
        scope.eval(&Expr::Name("A".into())).unwrap(),
        M::Text("x".into())
    );

    let refused = [
        ("[a = 1, a = 2]", "twice"),
        (r#""a" + "b""#, "not in the M"),
        (r#""line#(lf)""#, "escapes"),
        (r#""open"#, "not closed"),
        ("each [x]", "not in the M"),
        ("let a = 1 b", "expected `in`"),
    ];
    for (source, reason) in refused {
        let error = m::parse(source).unwrap_err();
        assert!(error.contains(reason), "{source}: {error}");
    }
    let unread = [
        (
            r#"OData.Feed(Origin & "/v1.0/x", null, [Headers = [], Implementation = "2.0", Header = []])"#,
            "no option Header",
        ),
        (
            r#"OData.Feed(Origin & "/v1.0/x", null, [Headers = []])"#,
            "Implementation",
        ),
        (
            r#"OData.Feed("https://usage.example.com/v1.0/x", null, [Implementation = "2.0"])"#,
            "Origin",
        ),
        (
            r#"OData.Feed(Host & "/v1.0/x", null, [Implementation = "2.0"])"#,
            "neither a step",
        ),
        (r#"Json.Document(Web.Contents(Origin))"#, "Json.Document"),
        (
            r#"Csv.Document(Web.Contents(Origin & "/v1.0/x"), [Encoding = 65001])"#,
            "Origin parameter alone",
        ),
        (
            r#"Csv.Document(Web.Contents(Origin, [Content = Text.ToBinary("x")]))"#,
            "Text.ToBinary",
        ),
        (
            r#"Csv.Document(Web.Contents(Origin, [RelativePath = "v1.0/x"]), [Encoding = 1252])"#,
            "65001",
        ),
        (r#"let a = "x" in a"#, "neither a parameter"),
    ];
    for (source, reason) in unread {
        let error = m::read_source(source, "http://h:1", "t").unwrap_err();
        assert!(error.contains(reason), "{source}: {error}");
    }
}
