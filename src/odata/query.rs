//! The typed description of a collection read that storage turns into bound SQL.
//! Nothing here is SQL; values are domain values, never query text.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::{Property, ReportPeriod};

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `property op value`; a literal on the left is normalised to this form.
    Compare {
        property: Property,
        op: CompareOp,
        value: Literal,
    },
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
}

/// The canonical OData text of a filter, fully parenthesised: two filters that
/// mean the same parse tree print the same, whatever spacing or case the client used.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(l, r) => write!(f, "({l} and {r})"),
            Self::Or(l, r) => write!(f, "({l} or {r})"),
            Self::Not(inner) => write!(f, "(not {inner})"),
            Self::Compare {
                property,
                op,
                value,
            } => write!(f, "{} {} {value}", property.json_name(), op.keyword()),
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
        }
    }
}

/// One `$orderby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub property: Property,
    pub descending: bool,
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = if self.descending { "desc" } else { "asc" };
        write!(f, "{} {direction}", self.property.json_name())
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
