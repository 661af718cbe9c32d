//! What every request handler can reach.

use std::sync::Arc;

use crate::group_commit::RowWriter;
use crate::storage::Store;

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Rows are created through the group-commit writer, never one by one.
    pub writer: RowWriter,
}
