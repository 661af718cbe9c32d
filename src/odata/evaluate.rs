//! A `$filter` and an `$orderby` applied to items held in memory (a short list
//! read whole), by the same rules the SQL they become elsewhere follows:
//! a comparison with null is true only for `eq null` / `ne null`, and nulls
//! sort first.

use std::cmp::Ordering;

use super::{CompareOp, Filter, Literal, OrderKey};

impl<P: Copy> Filter<P> {
    /// Whether an item whose properties have the values `value_of` gives
    /// satisfies the filter.
    pub fn matches(&self, value_of: &impl Fn(P) -> Literal) -> bool {
        match self {
            Self::And(l, r) => l.matches(value_of) && r.matches(value_of),
            Self::Or(l, r) => l.matches(value_of) || r.matches(value_of),
            Self::Not(inner) => !inner.matches(value_of),
            Self::Compare {
                property,
                op,
                value,
            } => compare(&value_of(*property), *op, value),
        }
    }
}

fn compare(left: &Literal, op: CompareOp, right: &Literal) -> bool {
    match (left, right) {
        (Literal::Null, Literal::Null) => op == CompareOp::Eq,
        (Literal::Null, _) | (_, Literal::Null) => op == CompareOp::Ne,
        _ => order(left, right).is_some_and(|ordering| match op {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
        }),
    }
}

/// Two literals of the same kind in their order; `None` for different kinds,
/// which a typed filter never compares.
fn order(left: &Literal, right: &Literal) -> Option<Ordering> {
    Some(match (left, right) {
        (Literal::Int(a), Literal::Int(b)) => a.cmp(b),
        (Literal::Date(a), Literal::Date(b)) => a.cmp(b),
        (Literal::Period(a), Literal::Period(b)) => a.days().cmp(&b.days()),
        (Literal::Id(a), Literal::Id(b)) => a.cmp(b),
        (Literal::Bool(a), Literal::Bool(b)) => a.cmp(b),
        (Literal::Text(a), Literal::Text(b)) => a.cmp(b),
        _ => return None,
    })
}

/// The order `keys` put two items in, nulls first in ascending order.
pub fn order_by<P: Copy>(
    keys: &[OrderKey<P>],
    a: &impl Fn(P) -> Literal,
    b: &impl Fn(P) -> Literal,
) -> Ordering {
    for key in keys {
        let (x, y) = (a(key.property), b(key.property));
        let ordering = match (&x, &y) {
            (Literal::Null, Literal::Null) => Ordering::Equal,
            (Literal::Null, _) => Ordering::Less,
            (_, Literal::Null) => Ordering::Greater,
            _ => order(&x, &y).unwrap_or(Ordering::Equal),
        };
        let ordering = if key.descending {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: Option<i64>) -> impl Fn(()) -> Literal {
        move |()| n.map_or(Literal::Null, Literal::Int)
    }

    fn filter(op: CompareOp, value: Literal) -> Filter<()> {
        Filter::Compare {
            property: (),
            op,
            value,
        }
    }

    #[test]
    fn comparisons_follow_odata_for_values_and_null() {
        let five = item(Some(5));
        let null = item(None);
        assert!(filter(CompareOp::Gt, Literal::Int(4)).matches(&five));
        assert!(!filter(CompareOp::Gt, Literal::Int(5)).matches(&five));
        assert!(filter(CompareOp::Le, Literal::Int(5)).matches(&five));
        assert!(filter(CompareOp::Ne, Literal::Int(4)).matches(&five));
        assert!(!filter(CompareOp::Gt, Literal::Int(4)).matches(&null));
        assert!(filter(CompareOp::Eq, Literal::Null).matches(&null));
        assert!(!filter(CompareOp::Eq, Literal::Null).matches(&five));
        assert!(filter(CompareOp::Ne, Literal::Null).matches(&five));
        assert!(filter(CompareOp::Ne, Literal::Int(4)).matches(&null));
        let both = Filter::And(
            Box::new(filter(CompareOp::Ge, Literal::Int(5))),
            Box::new(Filter::Not(Box::new(filter(
                CompareOp::Eq,
                Literal::Int(6),
            )))),
        );
        assert!(both.matches(&five));
        assert!(!Filter::Or(Box::new(both.clone()), Box::new(both)).matches(&null));
    }

    #[test]
    fn nulls_sort_first_and_desc_reverses() {
        let up = [OrderKey {
            property: (),
            descending: false,
        }];
        let down = [OrderKey {
            property: (),
            descending: true,
        }];
        assert_eq!(order_by(&up, &item(None), &item(Some(1))), Ordering::Less);
        assert_eq!(
            order_by(&up, &item(Some(2)), &item(Some(1))),
            Ordering::Greater
        );
        assert_eq!(
            order_by(&down, &item(Some(2)), &item(Some(1))),
            Ordering::Less
        );
        assert_eq!(
            order_by(&down, &item(None), &item(Some(1))),
            Ordering::Greater
        );
    }
}
