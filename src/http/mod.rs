//! Graph's wire conventions, shared by every route: the authenticated caller,
//! the JSON body, media types and content negotiation, links and responses,
//! and the headers of what a browser renders (`page.rs`).

mod body;
mod caller;
mod gate;
mod links;
pub mod media;
mod negotiation;
mod origin;
mod page;
mod prefer;
mod response;

pub use body::{BodyDeadline, BodyLimit, BodyScope, JsonBody};
pub use links::{next_link, service_root};
pub use negotiation::{choose_report_form, ReportForm};
pub use origin::{client_address, Forwarding, IpNetwork};
pub use page::{page_response, CONTENT_SECURITY_POLICY};
pub use prefer::prefers_representation;
pub use response::{json_response, response_style};
