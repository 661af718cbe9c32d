//! OData's grammar: query options parsed into a typed `RowQuery`, function
//! calls and key predicates. Pure, no I/O.

mod evaluate;
mod filter;
mod function_call;
mod key;
mod options;
mod paging;
mod properties;
mod query;

pub use evaluate::order_by;
pub use filter::{
    parse_filter, parse_filter_of, FilterError, MAX_FILTER_COMPARISONS, MAX_FILTER_DEPTH,
};
pub use function_call::{parse_function_options, parse_period_call};
pub use key::parse_key_predicate;
pub use options::{
    parse_collection_options, parse_collection_pairs, parse_count_options, parse_list_pairs,
    CollectionRequest, ListRequest, QueryError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
pub use paging::{decode_skiptoken, encode_skiptoken};
pub use properties::parse_orderby_of;
pub use query::{
    CompareOp, Cursor, Filter, FilterProperty, FilterValue, Literal, OrderKey, RowQuery,
};
