//! Graph's wire conventions, shared by every route: the authenticated caller,
//! the JSON body, media types and content negotiation, links and responses,
//! the security headers of what a browser renders (`security_headers.rs`), and the connection
//! itself, whose request heads are checked before the framework reads them
//! (`connection/`).

mod body;
mod caller;
mod connection;
mod gate;
mod links;
pub mod media;
mod negotiation;
mod origin;
mod panics;
mod prefer;
mod response;
mod security_headers;
mod version;

pub use body::{BodyDeadline, BodyLimit, BodyScope, JsonBody};
pub use caller::{bearer_secret, BearerProblem};
pub use connection::{ConnectionRules, GuardedStream, HeadLimits, RefusalObserver};
pub use links::{next_link, service_root};
pub use negotiation::{choose_collection_form, choose_report_form, ReportForm, CSV_CONTENT_TYPE};
pub use origin::{client_address, Forwarding, IpNetwork};
pub use panics::answer_panics;
pub use prefer::prefers_representation;
pub use response::{json_response, response_style, ODATA_VERSION};
pub use security_headers::{page_response, CONTENT_SECURITY_POLICY};
