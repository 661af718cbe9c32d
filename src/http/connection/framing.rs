//! Where each request on a connection begins and ends, followed ahead of the
//! framework. Every request head is held to the rules actix-http applies to it,
//! and to tighter limits, so that a head it would answer with an empty 400, 431
//! or 408 is refused here first and answered in Graph's shape. Bodies are
//! followed as actix-http reads them (`Content-Length`, chunked, or to the end
//! of the connection) to find where the next head begins, and a request that
//! closes the connection (`Connection: close`, HTTP/1.0 without keep-alive) is
//! the last one the framework is given (RFC 9112 9.6).

use actix_web::http::{Method, Uri};

/// The most header fields a request may carry (actix-http refuses past 96).
pub const MAX_HEADERS: usize = 64;

/// How large a request head may be. actix-http's own limits are looser (a
/// 128 KiB head, a 64 KiB target), so these are the ones a client meets.
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// The request line and header fields together.
    pub head_bytes: usize,
    /// The request target (path and query string).
    pub target_bytes: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            head_bytes: 32 * 1024,
            target_bytes: 16 * 1024,
        }
    }
}

/// Why a request head is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a request actix-http would accept (400).
    Malformed(&'static str),
    /// A request target over `HeadLimits::target_bytes` (414).
    TargetTooLong { limit: usize },
    /// A head over `HeadLimits::head_bytes` (431).
    HeadTooLarge { limit: usize },
    /// More than `MAX_HEADERS` header fields (431).
    TooManyHeaders,
    /// The head did not arrive in time (408); decided by the connection's clock.
    HeadTimeout,
}

/// What a scan found after its accepted bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// A head to refuse: none of it from here on reaches the application,
    /// and the client is answered with the refusal.
    Refuse(Refusal),
    /// A chunked body that breaks its framing: nothing more reaches the
    /// application, which answers the request it has (its body ends early).
    Cut,
    /// The request just read closes the connection: what the client sends
    /// after it is never executed.
    Close,
}

/// The outcome of scanning newly read bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// How many of the bytes may be handed to the application.
    pub accepted: usize,
    pub stop: Option<Stop>,
}

/// How the body after a head is delimited, as actix-http decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    Length(u64),
    Chunked,
    /// An upgrade or CONNECT: everything until the connection closes.
    UntilClose,
}

#[derive(Debug)]
enum State {
    /// Reading a head; its first bytes, when split across reads, are in `pending`.
    Head,
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

/// A complete head: its length, how its body is delimited, and whether the
/// connection ends with this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    len: usize,
    body: Body,
    closes: bool,
}

/// Follows one connection's requests.
#[derive(Debug)]
pub struct RequestFraming {
    limits: HeadLimits,
    state: State,
    pending: Vec<u8>,
    heads_read: u64,
    /// The request whose body is being read is the connection's last.
    last: bool,
}

impl RequestFraming {
    pub fn new(limits: HeadLimits) -> Self {
        Self {
            limits,
            state: State::Head,
            pending: Vec::new(),
            heads_read: 0,
            last: false,
        }
    }

    /// True while a head is due: the connection's first, or one whose first
    /// bytes have come. Between requests on a kept-alive connection no head is
    /// due yet (the framework's keep-alive timer closes an idle connection).
    pub fn head_due(&self) -> bool {
        matches!(self.state, State::Head) && (self.heads_read == 0 || !self.pending.is_empty())
    }

    /// True while a request body is due: between a head and its body's end.
    pub fn body_due(&self) -> bool {
        !matches!(self.state, State::Head)
    }

    /// The request ended `at` bytes into the input: the next head is due,
    /// unless the request closed the connection.
    fn request_ended(&mut self, at: usize) -> Option<Scan> {
        self.state = State::Head;
        self.last.then_some(Scan {
            accepted: at,
            stop: Some(Stop::Close),
        })
    }

    /// Follows `input`, the next bytes read from the client.
    pub fn scan(&mut self, input: &[u8]) -> Scan {
        let mut at = 0;
        while at < input.len() {
            match &mut self.state {
                State::Head => match self.read_head(&input[at..]) {
                    Ok(Some((used, head))) => {
                        at += used;
                        self.heads_read += 1;
                        self.last = head.closes;
                        self.state = match head.body {
                            Body::None => State::Head,
                            Body::Length(n) => State::Length(n),
                            Body::Chunked => State::Chunked(Chunk::SizeFirst),
                            Body::UntilClose => State::UntilClose,
                        };
                        if head.body == Body::None {
                            if let Some(scan) = self.request_ended(at) {
                                return scan;
                            }
                        }
                    }
                    Ok(None) => at = input.len(),
                    Err(refusal) => {
                        return Scan {
                            accepted: at,
                            stop: Some(Stop::Refuse(refusal)),
                        }
                    }
                },
                State::Length(remaining) => {
                    let available = (input.len() - at) as u64;
                    let used = available.min(*remaining);
                    at += used as usize;
                    *remaining -= used;
                    if *remaining == 0 {
                        if let Some(scan) = self.request_ended(at) {
                            return scan;
                        }
                    }
                }
                State::Chunked(chunk) => match chunk.advance(&input[at..]) {
                    Ok((used, done)) => {
                        at += used;
                        if done {
                            if let Some(scan) = self.request_ended(at) {
                                return scan;
                            }
                        }
                    }
                    Err(used) => {
                        return Scan {
                            accepted: at + used,
                            stop: Some(Stop::Cut),
                        }
                    }
                },
                State::UntilClose => at = input.len(),
            }
        }
        Scan {
            accepted: at,
            stop: None,
        }
    }

    /// Reads the next head from `input` (after what is pending): the bytes of
    /// `input` it used and the head, or `None` while it is incomplete.
    fn read_head(&mut self, input: &[u8]) -> Result<Option<(usize, Head)>, Refusal> {
        if self.pending.is_empty() {
            // The common case: a whole head in one read, checked where it lies.
            return match check_head(input, &self.limits)? {
                Some(head) => Ok(Some((head.len, head))),
                None => {
                    self.pending.extend_from_slice(input);
                    Ok(None)
                }
            };
        }
        let before = self.pending.len();
        self.pending.extend_from_slice(input);
        match check_head(&self.pending, &self.limits)? {
            Some(head) => {
                self.pending.clear();
                Ok(Some((head.len - before, head)))
            }
            None => Ok(None),
        }
    }
}

/// Checks the head at the start of `bytes` as actix-http's decoder would,
/// within `limits`: the head once it is complete.
fn check_head(bytes: &[u8], limits: &HeadLimits) -> Result<Option<Head>, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            let target = request.path.map_or(0, str::len);
            let line_ended = bytes.contains(&b'\n');
            // The request line alone is allowed its target and a method and version around it.
            if target > limits.target_bytes
                || (!line_ended && bytes.len() > limits.target_bytes + 64)
            {
                return Err(Refusal::TargetTooLong {
                    limit: limits.target_bytes,
                });
            }
            if bytes.len() > limits.head_bytes {
                return Err(Refusal::HeadTooLarge {
                    limit: limits.head_bytes,
                });
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::TooManyHeaders),
        Err(httparse::Error::Version) => {
            return Err(Refusal::Malformed("only HTTP/1.0 and HTTP/1.1 are spoken"))
        }
        Err(_) => {
            return Err(Refusal::Malformed(
                "the request line or a header field is malformed",
            ))
        }
    };
    if len > limits.head_bytes {
        return Err(Refusal::HeadTooLarge {
            limit: limits.head_bytes,
        });
    }
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(Refusal::Malformed("the request line is incomplete"));
    };
    if target.len() > limits.target_bytes {
        return Err(Refusal::TargetTooLong {
            limit: limits.target_bytes,
        });
    }
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| Refusal::Malformed("the method is not valid"))?;
    Uri::try_from(target)
        .map_err(|_| Refusal::Malformed("the request target is not a valid URI"))?;
    let http11 = version == 1;
    let body = body_of(&method, http11, request.headers)?;
    Ok(Some(Head {
        len,
        body,
        closes: closes_connection(http11, request.headers),
    }))
}

/// Whether the connection ends after this request, as actix-http decides it:
/// a `close` option in any `Connection` field wins, then `upgrade`, then
/// `keep-alive`; without one, HTTP/1.0 closes and HTTP/1.1 keeps alive. Only
/// a connection actix-http keeps alive goes on.
fn closes_connection(http11: bool, headers: &[httparse::Header<'_>]) -> bool {
    let options = headers
        .iter()
        .filter(|field| field.name.eq_ignore_ascii_case("connection"))
        .filter_map(|field| visible_ascii(field.value))
        .flat_map(|value| value.split(',').map(str::trim));
    let (mut close, mut upgrade, mut keep_alive) = (false, false, false);
    for option in options {
        close |= option.eq_ignore_ascii_case("close");
        upgrade |= option.eq_ignore_ascii_case("upgrade");
        keep_alive |= option.eq_ignore_ascii_case("keep-alive");
    }
    close || upgrade || !(http11 || keep_alive)
}

/// How the body after a complete head is delimited, refusing what actix-http
/// refuses (the checks of its `MessageType::set_headers` and `Request::decode`).
fn body_of(
    method: &Method,
    http11: bool,
    headers: &[httparse::Header<'_>],
) -> Result<Body, Refusal> {
    let mut content_length = None;
    let mut transfer_encoding = false;
    let mut chunked = false;
    let mut host = false;
    let mut websocket = false;
    for field in headers {
        let name = field.name;
        if name.eq_ignore_ascii_case("content-length") {
            if content_length.is_some() {
                return Err(Refusal::Malformed("more than one Content-Length"));
            }
            let value = visible_ascii(field.value)
                .map(str::trim)
                .filter(|v| !v.starts_with('+'))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(Refusal::Malformed("Content-Length is not a number"))?;
            content_length = Some(value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if http11 {
                if transfer_encoding {
                    return Err(Refusal::Malformed("more than one Transfer-Encoding"));
                }
                match visible_ascii(field.value).map(str::trim) {
                    Some(v) if v.eq_ignore_ascii_case("chunked") => chunked = true,
                    Some(v) if v.eq_ignore_ascii_case("identity") => {}
                    _ => return Err(Refusal::Malformed("Transfer-Encoding must be chunked")),
                }
            }
            transfer_encoding = true;
        } else if name.eq_ignore_ascii_case("host") {
            if host {
                return Err(Refusal::Malformed("more than one Host"));
            }
            host = true;
        } else if name.eq_ignore_ascii_case("upgrade") {
            websocket |= visible_ascii(field.value)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"));
        }
    }
    if http11 && !host {
        return Err(Refusal::Malformed(
            "an HTTP/1.1 request needs a Host header",
        ));
    }
    if transfer_encoding {
        if !http11 {
            return Err(Refusal::Malformed("HTTP/1.0 has no Transfer-Encoding"));
        }
        if !chunked {
            return Err(Refusal::Malformed("Transfer-Encoding must be chunked"));
        }
        if content_length.is_some() {
            return Err(Refusal::Malformed(
                "Content-Length and Transfer-Encoding together",
            ));
        }
    }
    if !http11 && method == Method::POST && content_length.is_none() && !websocket {
        return Err(Refusal::Malformed(
            "an HTTP/1.0 POST needs a Content-Length",
        ));
    }
    // A zero Content-Length is no length at all: a CONNECT with one reads to
    // the connection's end, as without it.
    Ok(if chunked {
        Body::Chunked
    } else if websocket {
        Body::UntilClose
    } else if let Some(length) = content_length.filter(|&n| n > 0) {
        Body::Length(length)
    } else if method == Method::CONNECT {
        Body::UntilClose
    } else {
        Body::None
    })
}

/// The value as text when it is visible ASCII, as `HeaderValue::to_str` requires.
fn visible_ascii(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// Where a chunked body is, byte by byte, as actix-http's `ChunkedState`
/// reads it; the size being read or the data still to come ride along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    SizeFirst,
    SizeRest(u64),
    SizeSpace(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

impl Chunk {
    /// Follows `input`: the bytes used and whether the body ended with them,
    /// or, at a byte that breaks the framing, how many bytes came before it.
    fn advance(&mut self, input: &[u8]) -> Result<(usize, bool), usize> {
        let mut at = 0;
        while at < input.len() {
            if let Self::Data(remaining) = self {
                let used = ((input.len() - at) as u64).min(*remaining);
                at += used as usize;
                *remaining -= used;
                if *remaining == 0 {
                    *self = Self::DataCr;
                }
                continue;
            }
            let byte = input[at];
            let next = match (*self, byte) {
                (Self::SizeFirst, b) => hex(b).map(|d| Self::SizeRest(u64::from(d))),
                (Self::SizeRest(size), b) => match b {
                    b'\t' | b' ' => Some(Self::SizeSpace(size)),
                    b';' => Some(Self::Extension(size)),
                    b'\r' => Some(Self::SizeLf(size)),
                    b => hex(b).and_then(|d| {
                        size.checked_mul(16)
                            .map(|s| Self::SizeRest(s + u64::from(d)))
                    }),
                },
                (Self::SizeSpace(size), b) => match b {
                    b'\t' | b' ' => Some(Self::SizeSpace(size)),
                    b';' => Some(Self::Extension(size)),
                    b'\r' => Some(Self::SizeLf(size)),
                    _ => None,
                },
                (Self::Extension(size), b) => match b {
                    b'\r' => Some(Self::SizeLf(size)),
                    0x00..=0x08 | 0x0a..=0x1f | 0x7f => None,
                    _ => Some(Self::Extension(size)),
                },
                (Self::SizeLf(0), b'\n') => Some(Self::EndCr),
                (Self::SizeLf(size), b'\n') => Some(Self::Data(size)),
                (Self::DataCr, b'\r') => Some(Self::DataLf),
                (Self::DataLf, b'\n') => Some(Self::SizeFirst),
                (Self::Trailer, b'\r') => Some(Self::TrailerLf),
                (Self::Trailer, _) => Some(Self::Trailer),
                (Self::TrailerLf, b'\n') => Some(Self::EndCr),
                (Self::EndCr, b'\r') => Some(Self::EndLf),
                (Self::EndCr, _) => Some(Self::Trailer),
                (Self::EndLf, b'\n') => {
                    *self = Self::SizeFirst;
                    return Ok((at + 1, true));
                }
                _ => None,
            };
            *self = next.ok_or(at)?;
            at += 1;
        }
        Ok((at, false))
    }
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod against_actix;

#[cfg(test)]
mod tests {
    use super::*;

    fn framing() -> RequestFraming {
        RequestFraming::new(HeadLimits {
            head_bytes: 1024,
            target_bytes: 256,
        })
    }

    fn scan_all(input: &[u8]) -> Scan {
        framing().scan(input)
    }

    fn refused(input: &[u8]) -> Refusal {
        match scan_all(input).stop {
            Some(Stop::Refuse(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const GET: &[u8] = b"GET /v1.0/x HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn whole_requests_pass_and_the_next_head_is_found() {
        let mut input = GET.to_vec();
        input.extend_from_slice(b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        input.extend_from_slice(GET);
        let mut framing = framing();
        assert_eq!(
            framing.scan(&input),
            Scan {
                accepted: input.len(),
                stop: None
            }
        );
        assert_eq!(framing.heads_read, 3);
        assert!(!framing.head_due());
    }

    #[test]
    fn a_head_split_across_reads_is_put_together() {
        let mut framing = framing();
        for byte in GET {
            assert_eq!(framing.scan(&[*byte]).stop, None);
        }
        assert_eq!(framing.heads_read, 1);
        assert!(framing.pending.is_empty());
        // The next head is due only once its first byte has come.
        assert!(!framing.head_due());
        framing.scan(b"G");
        assert!(framing.head_due());
    }

    #[test]
    fn a_body_split_across_reads_is_counted() {
        let mut framing = framing();
        framing.scan(b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        assert!(matches!(framing.state, State::Length(7)));
        framing.scan(b"defghij");
        assert!(matches!(framing.state, State::Head));
    }

    #[test]
    fn chunked_bodies_are_followed_to_their_end() {
        let mut input =
            b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        input.extend_from_slice(
            b"5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
        );
        input.extend_from_slice(GET);
        let mut framing = framing();
        assert_eq!(
            framing.scan(&input),
            Scan {
                accepted: input.len(),
                stop: None
            }
        );
        assert_eq!(framing.heads_read, 2);
        // The same, a byte at a time.
        let mut framing = self::framing();
        for byte in &input {
            assert_eq!(framing.scan(&[*byte]).stop, None);
        }
        assert_eq!(framing.heads_read, 2);
    }

    #[test]
    fn a_broken_chunk_cuts_the_connection_where_it_breaks() {
        let head = b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (body, good) in [
            (&b"zz\r\n"[..], 0),
            (b"5\r\nhelloXX", 8),
            (b"5\n", 1),
            (b"1\r\na\r\n0\r\n\r\r", 10),
            (b"fffffffffffffffff\r\n", 16),
        ] {
            let mut input = head.to_vec();
            input.extend_from_slice(body);
            assert_eq!(
                scan_all(&input),
                Scan {
                    accepted: head.len() + good,
                    stop: Some(Stop::Cut)
                },
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn heads_actix_refuses_are_refused() {
        for head in [
            &b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n\r\n",
            b"G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            b"POST / HTTP/1.0\r\n\r\n",
            b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            assert!(
                matches!(refused(head), Refusal::Malformed(_)),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn limits_are_held_on_whole_and_partial_heads() {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(300));
        assert_eq!(
            refused(long_target.as_bytes()),
            Refusal::TargetTooLong { limit: 256 }
        );
        // A request line still coming is refused once it cannot fit.
        let coming = format!("GET /{}", "a".repeat(400));
        assert_eq!(
            refused(coming.as_bytes()),
            Refusal::TargetTooLong { limit: 256 }
        );

        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n", "b".repeat(1100));
        assert_eq!(
            refused(big.as_bytes()),
            Refusal::HeadTooLarge { limit: 1024 }
        );
        let big = format!("{big}\r\n");
        assert_eq!(
            refused(big.as_bytes()),
            Refusal::HeadTooLarge { limit: 1024 }
        );

        let mut many = "GET / HTTP/1.1\r\nHost: a\r\n".to_owned();
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: 1\r\n"));
        }
        // Refused before the head is complete, as soon as the fields are too many.
        assert_eq!(refused(many.as_bytes()), Refusal::TooManyHeaders);
    }

    #[test]
    fn a_refused_head_keeps_what_came_before_it() {
        let mut input = GET.to_vec();
        input.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(
            scan_all(&input),
            Scan {
                accepted: GET.len(),
                stop: Some(Stop::Refuse(Refusal::Malformed(
                    "an HTTP/1.1 request needs a Host header"
                )))
            }
        );
    }

    #[test]
    fn bodies_are_delimited_as_actix_delimits_them() {
        let cases: [(&[u8], Body); 8] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Body::None),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                Body::None,
            ),
            (
                b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
                Body::Length(3),
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\n",
                Body::UntilClose,
            ),
            (b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n", Body::UntilClose),
            (
                b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                Body::UntilClose,
            ),
            (
                b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n",
                Body::Length(2),
            ),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n",
                Body::Chunked,
            ),
        ];
        for (head, body) in cases {
            let checked = check_head(head, &HeadLimits::default()).map(|h| h.map(|h| h.body));
            assert_eq!(checked, Ok(Some(body)), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn connections_close_as_actix_closes_them() {
        let closes = |version: &str, fields: &str| {
            let head = format!("GET / HTTP/{version}\r\nHost: a\r\n{fields}\r\n");
            check_head(head.as_bytes(), &HeadLimits::default())
                .unwrap()
                .unwrap()
                .closes
        };
        for (version, fields, expected) in [
            ("1.1", "", false),
            ("1.1", "Connection: keep-alive\r\n", false),
            ("1.1", "Connection: close\r\n", true),
            ("1.1", "Connection:  Close \r\n", true),
            ("1.1", "Connection: keep-alive, close\r\n", true),
            (
                "1.1",
                "Connection: keep-alive\r\nConnection: close\r\n",
                true,
            ),
            ("1.1", "Connection: Upgrade\r\n", true),
            ("1.1", "Connection: te\r\n", false),
            ("1.0", "", true),
            ("1.0", "Connection: keep-alive\r\n", false),
            ("1.0", "Connection: Keep-Alive, foo\r\n", false),
            ("1.0", "Connection: foo\r\n", true),
            ("1.0", "Connection: keep-alive, close\r\n", true),
        ] {
            assert_eq!(
                closes(version, fields),
                expected,
                "HTTP/{version} {fields:?}"
            );
        }
    }

    #[test]
    fn nothing_after_a_closing_request_is_accepted() {
        let close = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        let post = b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
        let mut input = GET.to_vec();
        input.extend_from_slice(close);
        input.extend_from_slice(post);
        assert_eq!(
            scan_all(&input),
            Scan {
                accepted: GET.len() + close.len(),
                stop: Some(Stop::Close)
            }
        );
        // A closing request's body is its last bytes, however it is delimited.
        let closing_post = b"POST /p HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi";
        let mut input = closing_post.to_vec();
        input.extend_from_slice(GET);
        assert_eq!(
            scan_all(&input),
            Scan {
                accepted: closing_post.len(),
                stop: Some(Stop::Close)
            }
        );
        let chunked = b"POST /p HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\
                        Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        let mut input = chunked.to_vec();
        input.extend_from_slice(GET);
        assert_eq!(
            scan_all(&input),
            Scan {
                accepted: chunked.len(),
                stop: Some(Stop::Close)
            }
        );
    }

    #[test]
    fn a_body_is_due_from_its_head_to_its_end() {
        let mut framing = framing();
        assert!(!framing.body_due());
        framing.scan(b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n");
        assert!(framing.body_due());
        framing.scan(b"hello\r\n0\r\n\r\n");
        assert!(!framing.body_due());
        framing.scan(b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert!(framing.body_due());
    }
}
