//! `$filter`: a small recursive-descent parser from OData text to a typed `Filter`.
//!
//! Grammar, loosest binding first (OData's precedence: `not` > comparison > `and` > `or`):
//!
//! ```text
//! or         := and ("or" and)*
//! and        := condition ("and" condition)*
//! condition  := "not" negated | group | operand op operand
//! negated    := "not" negated | group
//! group      := "(" or ")"
//! operand    := property | literal
//! ```
//!
//! Because `not` binds tighter than a comparison, `not web eq 1` would negate a
//! property; the condition it negates must be parenthesised: `not (web eq 1)`.

mod lexer;

use std::fmt;

pub(crate) use lexer::string_literal;
use lexer::{tokenize, Token, TokenKind};

use std::marker::PhantomData;

use super::properties::find_property;
use super::{CompareOp, Filter, FilterProperty, FilterValue};
use crate::domain::Property;

/// How deeply parentheses and `not` may nest.
pub const MAX_FILTER_DEPTH: usize = 32;
/// How many comparisons one `$filter` may hold: keeps the SQL well within both
/// databases' expression limits.
pub const MAX_FILTER_COMPARISONS: usize = 100;

/// What is wrong with a `$filter`, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based character position in the `$filter` value.
    pub position: usize,
    pub message: String,
}

impl FilterError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at position {})", self.message, self.position)
    }
}

impl std::error::Error for FilterError {}

/// Parses a `$filter` value into a typed filter over the rows' properties.
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    parse_filter_of::<Property>(text)
}

/// Parses a `$filter` value into a typed filter over the properties `P`.
pub fn parse_filter_of<P: FilterProperty>(text: &str) -> Result<Filter<P>, FilterError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser::<P> {
        tokens,
        next: 0,
        end: text.chars().count() + 1,
        depth: 0,
        comparisons: 0,
        properties: PhantomData,
    };
    if parser.tokens.is_empty() {
        return Err(FilterError::new(1, "$filter is empty"));
    }
    let filter = parser.or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(Token {
            kind: TokenKind::Close,
            position,
        }) => Err(FilterError::new(*position, "')' has no matching '('")),
        Some(token) => Err(FilterError::new(
            token.position,
            format!(
                "expected 'and', 'or' or the end of the filter, found {}",
                token.kind.describe()
            ),
        )),
    }
}

/// One side of a comparison, before the two sides are matched up.
enum Operand<P> {
    Property(P, usize),
    Literal(FilterValue, usize),
}

struct Parser<P> {
    tokens: Vec<Token>,
    next: usize,
    /// The position just past the text, for errors at its end.
    end: usize,
    depth: usize,
    comparisons: usize,
    properties: PhantomData<P>,
}

impl<P: FilterProperty> Parser<P> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.peek().is_some_and(|t| &t.kind == kind);
        if found {
            self.next += 1;
        }
        found
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.position)
    }

    fn or(&mut self) -> Result<Filter<P>, FilterError> {
        let mut left = self.and()?;
        while self.eat(&TokenKind::Or) {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter<P>, FilterError> {
        let mut left = self.condition()?;
        while self.eat(&TokenKind::And) {
            let right = self.condition()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn condition(&mut self) -> Result<Filter<P>, FilterError> {
        let position = self.here();
        if self.eat(&TokenKind::Not) {
            self.negated(position)
        } else if self.eat(&TokenKind::Open) {
            self.group(position)
        } else {
            self.comparison()
        }
    }

    /// After `not` (at `not_at`): a negated group, or another `not`.
    fn negated(&mut self, not_at: usize) -> Result<Filter<P>, FilterError> {
        self.nest(not_at)?;
        let position = self.here();
        let inner = if self.eat(&TokenKind::Not) {
            self.negated(position)
        } else if self.eat(&TokenKind::Open) {
            self.group(position)
        } else {
            Err(FilterError::new(
                position,
                "'not' applies to a condition in parentheses, e.g. not (chromeOS gt 5)",
            ))
        }?;
        self.depth -= 1;
        Ok(Filter::Not(Box::new(inner)))
    }

    /// After `(` (at `open_at`): a filter, then `)`.
    fn group(&mut self, open_at: usize) -> Result<Filter<P>, FilterError> {
        self.nest(open_at)?;
        let inner = self.or()?;
        if !self.eat(&TokenKind::Close) {
            return Err(match self.peek() {
                None => FilterError::new(open_at, "'(' is not closed"),
                Some(token) => FilterError::new(
                    token.position,
                    format!(
                        "expected 'and', 'or' or ')', found {}",
                        token.kind.describe()
                    ),
                ),
            });
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn nest(&mut self, position: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(FilterError::new(
                position,
                format!("the filter nests more than {MAX_FILTER_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<Filter<P>, FilterError> {
        let left = self.operand()?;
        let op = match self.bump() {
            Some(Token {
                kind: TokenKind::Compare(op),
                ..
            }) => op,
            other => {
                let what = match &left {
                    Operand::Property(p, _) => format!("'{}'", p.name()),
                    Operand::Literal(kind, _) => kind.describe(),
                };
                let found = other
                    .as_ref()
                    .map_or("the end of the filter".into(), |t| t.kind.describe());
                return Err(FilterError::new(
                    other.map_or(self.end, |t| t.position),
                    format!("expected a comparison operator (eq ne gt ge lt le) after {what}, found {found}"),
                ));
            }
        };
        let right = self.operand()?;
        self.comparisons += 1;
        if self.comparisons > MAX_FILTER_COMPARISONS {
            let at = match &left {
                Operand::Property(_, p) | Operand::Literal(_, p) => *p,
            };
            return Err(FilterError::new(
                at,
                format!("the filter has more than {MAX_FILTER_COMPARISONS} comparisons"),
            ));
        }
        match (left, right) {
            (Operand::Property(property, _), Operand::Literal(value, at)) => {
                typed(property, op, value, at)
            }
            // `5 lt web` reads as `web gt 5`.
            (Operand::Literal(value, at), Operand::Property(property, _)) => {
                typed(property, op.flipped(), value, at)
            }
            (Operand::Property(..), Operand::Property(_, at)) => Err(FilterError::new(
                at,
                "comparing two properties is not supported; compare a property with a literal",
            )),
            (Operand::Literal(_, at), Operand::Literal(..)) => Err(FilterError::new(
                at,
                "a comparison needs a property on one side",
            )),
        }
    }

    fn operand(&mut self) -> Result<Operand<P>, FilterError> {
        let Some(token) = self.bump() else {
            return Err(FilterError::new(
                self.end,
                "the filter ends where a property or a literal was expected",
            ));
        };
        match token.kind {
            TokenKind::Name(name) => {
                if self.peek().is_some_and(|t| t.kind == TokenKind::Open) {
                    return Err(FilterError::new(
                        token.position,
                        format!("functions such as {name}() are not supported; use eq ne gt ge lt le, and, or, not"),
                    ));
                }
                find_property::<P>(&name)
                    .map(|p| Operand::Property(p, token.position))
                    .map_err(|message| FilterError::new(token.position, message))
            }
            TokenKind::Value(value) => Ok(Operand::Literal(value, token.position)),
            other => Err(FilterError::new(
                token.position,
                format!(
                    "expected a property or a literal, found {}",
                    other.describe()
                ),
            )),
        }
    }
}

/// Checks the literal against the property's type and builds the comparison.
fn typed<P: FilterProperty>(
    property: P,
    op: CompareOp,
    value: FilterValue,
    at: usize,
) -> Result<Filter<P>, FilterError> {
    let literal = property.literal(&value).map_err(|expected| {
        FilterError::new(
            at,
            format!(
                "{} is compared with {}, but {expected}",
                property.name(),
                value.describe()
            ),
        )
    })?;
    Ok(Filter::Compare {
        property,
        op,
        value: literal,
    })
}

#[cfg(test)]
mod tests;
