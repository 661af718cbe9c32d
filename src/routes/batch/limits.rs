//! What one batch's answer may hold. Every sub-response is read into memory to
//! be embedded in the answer, so each read is capped, and so is their sum: the
//! memory a batch costs is bounded whatever the size of the table it reads.

use std::cell::Cell;
use std::future::poll_fn;
use std::pin::Pin;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::{Bytes, BytesMut};

use crate::error::ApiError;

/// The most one sub-response (its headers and body) may take in the answer.
/// A page of 1,000 rows (the largest `$top`) with every count at Int64's
/// maximum, written as IEEE754-compatible strings, is about 0.5 MiB.
pub const RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// The most all sub-responses of one batch may take together.
pub const TOTAL_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub response_bytes: usize,
    pub total_bytes: usize,
}

impl BatchLimits {
    pub const DEFAULT: Self = Self {
        response_bytes: RESPONSE_BYTES,
        total_bytes: TOTAL_BYTES,
    };
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which cap a sub-response went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Its own, `BatchLimits::response_bytes`.
    Response,
    /// The batch's running total, `BatchLimits::total_bytes`.
    Batch,
}

/// The running total of one batch's answer. Its sub-responses are read
/// concurrently, but on one task, so a `Cell` is enough.
#[derive(Debug)]
pub struct Budget {
    limits: BatchLimits,
    used: Cell<usize>,
    full: Cell<bool>,
}

impl Budget {
    pub fn new(limits: BatchLimits) -> Self {
        Self {
            limits,
            used: Cell::new(0),
            full: Cell::new(false),
        }
    }

    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    /// True once a sub-response did not fit: what has not started yet does not run.
    pub fn is_full(&self) -> bool {
        self.full.get()
    }

    fn take(&self, bytes: usize) -> bool {
        match self.used.get().checked_add(bytes) {
            Some(used) if used <= self.limits.total_bytes => {
                self.used.set(used);
                true
            }
            _ => {
                self.full.set(true);
                false
            }
        }
    }

    /// What a refused sub-response had taken: its bytes are dropped, not embedded.
    fn give_back(&self, bytes: usize) {
        self.used.set(self.used.get().saturating_sub(bytes));
    }
}

/// A sub-response's body, read chunk by chunk against its own cap
/// (`headers` bytes already spent) and the batch's running total. Reading stops
/// at the first chunk over either cap, and what was read is dropped.
pub async fn read_body(
    mut body: BoxBody,
    headers: usize,
    budget: &Budget,
) -> Result<Result<Bytes, Box<dyn std::error::Error>>, Overflow> {
    let cap = budget.limits.response_bytes;
    if !budget.take(headers) {
        return Err(Overflow::Batch);
    }
    let mut taken = headers;
    let overflow = |taken: usize, which: Overflow| {
        budget.give_back(taken);
        Err(which)
    };
    if headers > cap {
        return overflow(taken, Overflow::Response);
    }
    // A body that says its size is refused before a byte of it is read.
    if let BodySize::Sized(size) = body.size() {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > cap - headers {
            return overflow(taken, Overflow::Response);
        }
    }
    let mut bytes = BytesMut::new();
    loop {
        let chunk = match poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await {
            None => break,
            Some(Ok(chunk)) => chunk,
            Some(Err(error)) => {
                budget.give_back(taken);
                return Ok(Err(error));
            }
        };
        if taken + chunk.len() > cap {
            return overflow(taken, Overflow::Response);
        }
        if !budget.take(chunk.len()) {
            return overflow(taken, Overflow::Batch);
        }
        taken += chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    Ok(Ok(bytes.freeze()))
}

/// The error a sub-response over a cap is answered with, in its place.
pub fn too_large(id: &str, overflow: Overflow, limits: BatchLimits) -> ApiError {
    ApiError::ResponseTooLarge(match overflow {
        Overflow::Response => format!(
            "The answer to request '{id}' is larger than {} bytes, the most one response in a batch may hold; \
             send it alone, or ask for fewer rows ($top, $select)",
            limits.response_bytes
        ),
        Overflow::Batch => format!(
            "The answer to request '{id}' would take the batch's answer over {} bytes, the most it may hold; \
             send it in another batch, or ask for fewer rows ($top, $select)",
            limits.total_bytes
        ),
    })
}

/// The error of a request that did not run because the answer was already full.
pub fn not_run(id: &str, limits: BatchLimits) -> ApiError {
    ApiError::ResponseTooLarge(format!(
        "Request '{id}' was not run: the batch's answer already holds the most it may ({} bytes); \
         send it in another batch",
        limits.total_bytes
    ))
}
