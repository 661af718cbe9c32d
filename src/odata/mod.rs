//! OData query options: parsing them into a typed `RowQuery`. Pure, no I/O.

mod options;
mod paging;
mod query;

pub use options::{parse_collection_options, CollectionRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use paging::{decode_skiptoken, encode_skiptoken};
pub use query::{CompareOp, Cursor, Filter, Literal, OrderKey, RowQuery};
