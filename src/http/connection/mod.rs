//! The client's connection, read ahead of the framework. actix-http answers a
//! request head it cannot take (a target or head too long, too many header
//! fields, a head too slow, a malformed line) with an empty body, before any
//! middleware runs. `GuardedStream` sits between the socket and actix-http: it
//! follows each request (`framing.rs`), and a head to refuse never reaches the
//! framework, which sees the connection end there, finishes what it was
//! answering and closes; the refusal is then written in Graph's error shape
//! (`refusal.rs`) before the socket is shut.

mod framing;
mod refusal;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub use framing::HeadLimits;
use framing::{Refusal, RequestFraming, Stop};

/// Told the status of every refused head (startup counts them in the metrics).
pub type RefusalObserver = Arc<dyn Fn(StatusCode) + Send + Sync>;

/// The rules every connection's request heads are held to.
#[derive(Clone)]
pub struct HeadRules {
    pub limits: HeadLimits,
    /// Longest a head may take to arrive, from the connection's start or from
    /// the head's first byte.
    pub read_timeout: Duration,
    pub observer: RefusalObserver,
}

/// A client connection whose request heads are checked before actix-http reads them.
pub struct GuardedStream<IO> {
    io: IO,
    framing: RequestFraming,
    read_timeout: Duration,
    observer: RefusalObserver,
    /// Armed while a head is due.
    deadline: Pin<Box<Sleep>>,
    armed: bool,
    /// Once set, reads end: nothing more reaches the framework.
    stopped: bool,
    /// The refusal still to write before the socket is shut, and how much of it is written.
    answer: Option<(Vec<u8>, usize)>,
    /// After a refusal: the socket is shut for writing and what the client
    /// still sends is read and dropped for a moment, so that closing a socket
    /// with unread bytes (a reset) does not destroy the answer before the
    /// client reads it.
    lingering: bool,
}

/// How long a refused client's remaining bytes are drained before the socket closes.
const LINGER: Duration = Duration::from_secs(1);

impl<IO> GuardedStream<IO> {
    pub fn new(io: IO, rules: HeadRules) -> Self {
        Self {
            io,
            framing: RequestFraming::new(rules.limits),
            read_timeout: rules.read_timeout,
            observer: rules.observer,
            deadline: Box::pin(tokio::time::sleep(rules.read_timeout)),
            // The connection's first head is due from the start.
            armed: true,
            stopped: false,
            answer: None,
            lingering: false,
        }
    }

    fn stop(&mut self, stop: Stop) {
        self.stopped = true;
        self.armed = false;
        if let Stop::Refuse(refusal) = stop {
            let (answer, status) = refusal::answer(&refusal);
            (self.observer)(status);
            self.answer = Some((answer, 0));
        }
    }

    /// Arms the deadline when a head becomes due, disarms it when none is.
    fn follow_deadline(&mut self) {
        match (self.framing.head_due(), self.armed) {
            (true, false) => {
                self.deadline
                    .as_mut()
                    .reset(Instant::now() + self.read_timeout);
                self.armed = true;
            }
            (false, true) => self.armed = false,
            _ => {}
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for GuardedStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.stopped {
            return Poll::Ready(Ok(()));
        }
        if this.armed && this.deadline.as_mut().poll(cx).is_ready() {
            this.stop(Stop::Refuse(Refusal::HeadTimeout));
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let scan = this.framing.scan(&buf.filled()[before..]);
        if let Some(stop) = scan.stop {
            buf.set_filled(before + scan.accepted);
            this.stop(stop);
        } else {
            this.follow_deadline();
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GuardedStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    /// The framework has answered everything it was given: the refusal, if
    /// any, comes last, then the socket is shut.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some((bytes, written)) = &mut this.answer {
            while *written < bytes.len() {
                let n = ready!(Pin::new(&mut this.io).poll_write(cx, &bytes[*written..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *written += n;
            }
            ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.answer = None;
            this.lingering = true;
            this.deadline.as_mut().reset(Instant::now() + LINGER);
        }
        if this.lingering {
            return this.poll_drain(cx);
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<IO: AsyncRead + Unpin> GuardedStream<IO> {
    /// Reads and drops what the client still sends, until it closes or `LINGER` passes.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut scratch = [0; 4096];
        loop {
            if self.deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf)) {
                Ok(()) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Ok(()) => {}
                // A client that is gone has nothing left to lose.
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}
