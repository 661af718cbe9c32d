//! The client's connection, read ahead of the framework. actix-http answers a
//! request head it cannot take (a target or head too long, too many header
//! fields, a head too slow, a malformed line) with an empty body, before any
//! middleware runs. `GuardedStream` sits between the socket and actix-http: it
//! follows each request (`framing.rs`), and a head to refuse never reaches the
//! framework, which sees the connection end there, finishes what it was
//! answering and closes; the refusal is then written in Graph's error shape
//! (`refusal.rs`) before the socket is shut. Every byte the server waits for
//! has a deadline: a head, a body (even one no handler reads), and the client
//! taking the response it is sent. Nothing a client sends after a request that
//! closes the connection reaches the framework.

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

/// The rules every connection is held to.
#[derive(Clone)]
pub struct ConnectionRules {
    pub limits: HeadLimits,
    /// Longest a head may take to arrive, from the connection's start or from
    /// the head's first byte.
    pub head_timeout: Duration,
    /// Longest a body may take to arrive, from the end of its head. Set past
    /// the handlers' own body deadline (which answers 408): this one ends the
    /// bodies no handler reads, which the framework would otherwise wait for.
    pub body_timeout: Duration,
    /// Longest the client may leave a response unread (no byte of it taken)
    /// before the connection is abandoned.
    pub send_timeout: Duration,
    pub observer: RefusalObserver,
}

/// What the client owes the server next, and so which deadline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Nothing,
    Head,
    Body,
}

/// A client connection whose request heads are checked before actix-http reads them.
pub struct GuardedStream<IO> {
    io: IO,
    framing: RequestFraming,
    head_timeout: Duration,
    body_timeout: Duration,
    send_timeout: Duration,
    observer: RefusalObserver,
    /// Runs while a head or a body is due (or, after a refusal, for the linger).
    deadline: Pin<Box<Sleep>>,
    due: Due,
    /// Runs while a write waits for the client to take bytes.
    send_deadline: Pin<Box<Sleep>>,
    sending: bool,
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
    pub fn new(io: IO, rules: ConnectionRules) -> Self {
        Self {
            io,
            framing: RequestFraming::new(rules.limits),
            head_timeout: rules.head_timeout,
            body_timeout: rules.body_timeout,
            send_timeout: rules.send_timeout,
            observer: rules.observer,
            deadline: Box::pin(tokio::time::sleep(rules.head_timeout)),
            // The connection's first head is due from the start.
            due: Due::Head,
            send_deadline: Box::pin(tokio::time::sleep(rules.send_timeout)),
            sending: false,
            stopped: false,
            answer: None,
            lingering: false,
        }
    }

    fn stop(&mut self, stop: Stop) {
        self.stopped = true;
        self.due = Due::Nothing;
        if let Stop::Refuse(refusal) = stop {
            let (answer, status) = refusal::answer(&refusal);
            (self.observer)(status);
            self.answer = Some((answer, 0));
        }
    }

    /// Starts the deadline of what became due, stops it when nothing is.
    fn follow_deadline(&mut self) {
        let due = if self.framing.head_due() {
            Due::Head
        } else if self.framing.body_due() {
            Due::Body
        } else {
            Due::Nothing
        };
        if due != self.due {
            let timeout = match due {
                Due::Head => self.head_timeout,
                Due::Body => self.body_timeout,
                Due::Nothing => Duration::ZERO,
            };
            self.deadline.as_mut().reset(Instant::now() + timeout);
            self.due = due;
        }
    }

    /// Follows a write (or a flush): the send deadline starts when the client
    /// stops taking bytes and ends only when it takes some (a flush that
    /// completes moves nothing); past it the write fails, and the framework
    /// drops the connection and the response with it.
    fn follow_send<T>(
        &mut self,
        cx: &mut Context<'_>,
        write: Poll<io::Result<T>>,
        took_bytes: impl Fn(&T) -> bool,
    ) -> Poll<io::Result<T>> {
        if let Poll::Ready(result) = &write {
            if result.as_ref().map_or(true, &took_bytes) {
                self.sending = false;
            }
            return write;
        }
        if !self.sending {
            self.send_deadline
                .as_mut()
                .reset(Instant::now() + self.send_timeout);
            self.sending = true;
        }
        match self.send_deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not take the response in time",
            ))),
            Poll::Pending => Poll::Pending,
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
        if this.due != Due::Nothing && this.deadline.as_mut().poll(cx).is_ready() {
            // A late head is answered 408; a late body ends where it is, and
            // the framework answers (or has answered) the request it has.
            let stop = match this.due {
                Due::Head => Stop::Refuse(Refusal::HeadTimeout),
                _ => Stop::Cut,
            };
            this.stop(stop);
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
        let this = self.get_mut();
        let write = Pin::new(&mut this.io).poll_write(cx, buf);
        this.follow_send(cx, write, |&n| n > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let write = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.follow_send(cx, write, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flush = Pin::new(&mut this.io).poll_flush(cx);
        this.follow_send(cx, flush, |()| false)
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
