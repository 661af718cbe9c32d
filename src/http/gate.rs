//! The order of a request's extractors: its body waits for its caller.

use std::cell::Cell;
use std::rc::Rc;

use actix_web::{HttpMessage, HttpRequest};
use tokio::sync::Notify;

/// Holds a request's body back until its caller is authenticated. actix polls a
/// handler's extractors together, so without this a body could be read and
/// judged (400, 413, 415) for a caller whose token turns out invalid: a caller
/// without a valid token gets 401 whatever it sends, and its body is never read.
#[derive(Clone, Default)]
pub struct AuthenticationGate(Rc<GateState>);

#[derive(Default)]
struct GateState {
    open: Cell<bool>,
    opened: Notify,
}

impl AuthenticationGate {
    /// Closes the gate for `request`'s body while its caller is being authenticated.
    pub fn close(request: &HttpRequest) -> Self {
        let gate = Self::default();
        request.extensions_mut().insert(gate.clone());
        gate
    }

    /// Authentication has ended (either way): the body may be read.
    pub fn open(&self) {
        self.0.open.set(true);
        self.0.opened.notify_waiters();
    }

    /// Resolves once the gate is open.
    pub async fn opened(self) {
        loop {
            // Registered before the check, so an `open` in between is not missed.
            let opened = self.0.opened.notified();
            if self.0.open.get() {
                return;
            }
            opened.await;
        }
    }
}
