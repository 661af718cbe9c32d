//! The typed description of a collection read that storage turns into bound SQL.
//! Nothing here is SQL; values are domain values, never query text.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::{Property, ReportPeriod};

/// A `$filter` expression over the properties `P` of a collection (the rows'
/// by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter<P = Property> {
    And(Box<Filter<P>>, Box<Filter<P>>),
    Or(Box<Filter<P>>, Box<Filter<P>>),
    Not(Box<Filter<P>>),
    /// `property op value`; a literal on the left is normalised to this form.
    Compare {
        property: P,
        op: CompareOp,
        value: Literal,
    },
}

/// What a `$filter` or `$orderby` may name: a collection's properties, each
/// with the type its literals must have.
pub trait FilterProperty: Copy + Eq + fmt::Debug + 'static {
    /// How error messages name the collection.
    const COLLECTION: &'static str;
    /// Every property, for the near miss an error names.
    fn all() -> &'static [Self];
    /// The name a query writes it by (case-sensitive, as in Graph).
    fn name(self) -> &'static str;
    /// The literal `value` is when compared with this property, or what the
    /// property takes instead.
    fn literal(self, value: &FilterValue) -> Result<Literal, String>;
}

/// A literal as a `$filter` writes it, before it is checked against a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Null,
    Boolean(bool),
    Int(i64),
    Date(NaiveDate),
    Guid(Uuid),
    /// A quoted string, `''` already unescaped.
    Str(String),
}

impl FilterValue {
    /// How the value is named in an error message.
    pub fn describe(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Boolean(b) => format!("the Boolean {b}"),
            Self::Int(n) => format!("the number {n}"),
            Self::Date(d) => format!("the date {d}"),
            Self::Guid(g) => format!("the GUID {g}"),
            Self::Str(s) => format!("the string '{}'", s.replace('\'', "''")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The OData keyword: `eq`, `ne`, ...
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator that gives the same answer with its operands swapped.
    pub fn flipped(self) -> Self {
        match self {
            Self::Eq | Self::Ne => self,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
        }
    }
}

/// A literal already checked against the property it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Null,
    Int(i64),
    Date(NaiveDate),
    Period(ReportPeriod),
    Id(Uuid),
    Bool(bool),
    Text(String),
}

/// The canonical OData text of a filter, fully parenthesised: two filters that
/// mean the same parse tree print the same, whatever spacing or case the client used.
impl<P: FilterProperty> fmt::Display for Filter<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(l, r) => write!(f, "({l} and {r})"),
            Self::Or(l, r) => write!(f, "({l} or {r})"),
            Self::Not(inner) => write!(f, "(not {inner})"),
            Self::Compare {
                property,
                op,
                value,
            } => write!(f, "{} {} {value}", property.name(), op.keyword()),
        }
    }
}

/// OData literal syntax.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Date(d) => write!(f, "{d}"),
            Self::Period(p) => write!(f, "'{p}'"),
            Self::Id(id) => write!(f, "{id}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(t) => write!(f, "'{}'", t.replace('\'', "''")),
        }
    }
}

/// One `$orderby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey<P = Property> {
    pub property: P,
    pub descending: bool,
}

impl<P: FilterProperty> fmt::Display for OrderKey<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = if self.descending { "desc" } else { "asc" };
        write!(f, "{} {direction}", self.property.name())
    }
}

/// Where the previous page ended: the sort values of its last row, in `order_by`
/// order, then that row's id (the tie-breaker every ordering ends with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub keys: Vec<Literal>,
    pub last_id: Uuid,
}

/// A page of a tenant's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowQuery {
    pub filter: Option<Filter>,
    /// The client's keys; storage always appends `id` ascending as the final tie-breaker.
    pub order_by: Vec<OrderKey>,
    pub after: Option<Cursor>,
    pub skip: u64,
    pub limit: u32,
}

impl RowQuery {
    /// The first `limit` rows in creation order.
    pub fn first(limit: u32) -> Self {
        Self {
            filter: None,
            order_by: Vec::new(),
            after: None,
            skip: 0,
            limit,
        }
    }
}
