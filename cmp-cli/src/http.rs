//! A small blocking HTTP/1.1 client for CMP over HTTP (RFC 9811): one POST
//! per connection (`Connection: close`), `application/pkixcmp` both ways,
//! bounded header and body sizes, and a deadline on every step.
//!
//! Only `http://` URLs are supported.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use cmp_core::transport::{CONTENT_TYPE, HttpOutcome, classify_response};

/// The largest response body accepted.
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;
/// The largest status line plus headers accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most interim (1xx) responses skipped before the final one.
const MAX_INTERIM: usize = 8;

/// Why an HTTP exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpError(pub(crate) String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How every error text ends when the deadline passed.
const TIMED_OUT: &str = "timed out";

impl HttpError {
    /// Whether the exchange failed because its deadline passed (the peer
    /// was silent or too slow), rather than for another transport reason.
    pub(crate) fn is_timeout(&self) -> bool {
        self.0.ends_with(TIMED_OUT)
    }
}

fn err<T>(text: impl Into<String>) -> Result<T, HttpError> {
    Err(HttpError(text.into()))
}

/// An `http://host[:port]/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// Host name or address (IPv6 without brackets).
    pub(crate) host: String,
    /// TCP port (default 80).
    pub(crate) port: u16,
    /// Path and query, starting with `/`.
    pub(crate) path: String,
}

impl HttpUrl {
    /// Parse a URL; only the `http` scheme is accepted.
    pub(crate) fn parse(url: &str) -> Result<Self, HttpError> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return err(format!(
                "{url:?} is not a URL (expected http://HOST[:PORT]/PATH)"
            ));
        };
        if scheme.eq_ignore_ascii_case("https") {
            return err("https:// URLs are not supported yet; use http://");
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return err(format!("unsupported URL scheme {scheme:?}; use http://"));
        }
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let path = path.split('#').next().unwrap_or("/");
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        if authority.contains('@') {
            return err("user information in the URL is not supported");
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return err(format!("bad IPv6 address in {url:?}"));
            };
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| HttpError(format!("bad port in {url:?}")))?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return err(format!("no host in {url:?}"));
        }
        let port = match port {
            None | Some("") => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| HttpError(format!("bad port {p:?} in {url:?}")))?,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The Host header value.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    /// The status code.
    pub(crate) status: u16,
    /// The reason phrase.
    pub(crate) reason: String,
    /// Header fields in order; names as received.
    pub(crate) headers: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// POST `body` to `url` as `application/pkixcmp` and return the CMP message
/// in the answer. Fails on anything but `200` with `application/pkixcmp`.
pub(crate) fn post_pkixcmp(
    url: &HttpUrl,
    body: &[u8],
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    let response = post(url, body, deadline)?;
    match classify_response(response.status, response.header("content-type")) {
        HttpOutcome::CmpMessage => Ok(response.body),
        HttpOutcome::TransportError(text) => {
            let reason = if response.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", response.reason)
            };
            if response.status == 200 {
                err(format!("{text} from {}", url.host_header()))
            } else {
                err(format!(
                    "HTTP status {}{reason} from http://{}{}",
                    response.status,
                    url.host_header(),
                    url.path
                ))
            }
        }
    }
}

/// POST `body` to `url` with `Content-Type: application/pkixcmp`.
pub(crate) fn post(
    url: &HttpUrl,
    body: &[u8],
    deadline: Instant,
) -> Result<HttpResponse, HttpError> {
    let mut stream = connect(url, deadline)?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {CONTENT_TYPE}\r\nAccept: {CONTENT_TYPE}\r\n\
         Content-Length: {}\r\nConnection: close\r\nUser-Agent: cmp-rs/{}\r\n\r\n",
        url.path,
        url.host_header(),
        body.len(),
        env!("CARGO_PKG_VERSION"),
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    set_timeouts(&stream, deadline)?;
    stream
        .write_all(&request)
        .map_err(|e| io_error("sending the request", &e))?;
    stream
        .flush()
        .map_err(|e| io_error("sending the request", &e))?;
    let mut reader = DeadlineReader { stream, deadline };
    read_response(&mut reader, MAX_BODY)
}

fn connect(url: &HttpUrl, deadline: Instant) -> Result<TcpStream, HttpError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| HttpError(format!("cannot resolve {}: {e}", url.host)))?
        .collect();
    if addrs.is_empty() {
        return err(format!("cannot resolve {}", url.host));
    }
    let mut last = None;
    for addr in addrs {
        let remaining = remaining(deadline)?;
        match TcpStream::connect_timeout(&addr, remaining) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    match last {
        Some((addr, e)) if e.kind() == io::ErrorKind::TimedOut => {
            err(format!("connecting to {addr}: {TIMED_OUT}"))
        }
        Some((addr, e)) => err(format!("cannot connect to {addr}: {e}")),
        None => err(format!("cannot connect to {}", url.host)),
    }
}

fn remaining(deadline: Instant) -> Result<Duration, HttpError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        err(TIMED_OUT)
    } else {
        Ok(left)
    }
}

fn set_timeouts(stream: &TcpStream, deadline: Instant) -> Result<(), HttpError> {
    let left = remaining(deadline)?;
    stream
        .set_read_timeout(Some(left))
        .map_err(|e| io_error("setting a timeout", &e))?;
    stream
        .set_write_timeout(Some(left))
        .map_err(|e| io_error("setting a timeout", &e))
}

fn io_error(what: &str, e: &io::Error) -> HttpError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            HttpError(format!("{what}: {TIMED_OUT}"))
        }
        _ => HttpError(format!("{what}: {e}")),
    }
}

/// A reader that shortens the socket's read timeout to the deadline before
/// every read, so a slow server cannot stretch the exchange.
struct DeadlineReader {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for DeadlineReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Buffered reading with limits, for the response parser.
struct Input<'r, R: Read> {
    reader: &'r mut R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Input<'_, R> {
    /// Read more bytes into the buffer; false at EOF.
    fn fill(&mut self) -> Result<bool, HttpError> {
        if self.eof {
            return Ok(false);
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.reader.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error("reading the response", &e)),
            }
        }
    }

    fn available(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// One line ending in CRLF (or LF), without the line end; at most `max` bytes.
    fn line(&mut self, max: usize, what: &str) -> Result<String, HttpError> {
        loop {
            if let Some(i) = self.available().iter().position(|&b| b == b'\n') {
                let raw = self.available().get(..i).unwrap_or_default();
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if raw.len() > max {
                    return err(format!("{what} too long"));
                }
                let line = String::from_utf8_lossy(raw).into_owned();
                self.pos += i + 1;
                return Ok(line);
            }
            // the line may still lack its "\r\n"
            if self.available().len() > max.saturating_add(1) {
                return err(format!("{what} too long"));
            }
            if !self.fill()? {
                return err(format!("connection closed in the {what}"));
            }
        }
    }

    /// Exactly `n` bytes.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, HttpError> {
        while self.available().len() < n {
            if !self.fill()? {
                return err(format!(
                    "connection closed after {} of {n} body bytes",
                    self.available().len()
                ));
            }
        }
        let out = self.available().get(..n).unwrap_or_default().to_vec();
        self.pos += n;
        Ok(out)
    }

    /// Everything up to EOF, at most `max` bytes.
    fn rest(&mut self, max: usize) -> Result<Vec<u8>, HttpError> {
        loop {
            if self.available().len() > max {
                return err(format!("response body larger than {max} bytes"));
            }
            if !self.fill()? {
                return Ok(self.available().to_vec());
            }
        }
    }
}

/// Read and parse one HTTP/1.x response: status line, header fields
/// (names case-insensitive), and a body delimited by `Content-Length`,
/// chunked transfer coding, or the end of the connection; at most
/// `max_body` bytes. Interim (1xx) responses are skipped.
pub(crate) fn read_response<R: Read>(
    reader: &mut R,
    max_body: usize,
) -> Result<HttpResponse, HttpError> {
    let mut input = Input {
        reader,
        buf: Vec::new(),
        pos: 0,
        eof: false,
    };
    for _ in 0..=MAX_INTERIM {
        let (status, reason, headers) = read_head(&mut input)?;
        if (100..200).contains(&status) {
            continue;
        }
        let mut response = HttpResponse {
            status,
            reason,
            headers,
            body: Vec::new(),
        };
        // no body for 204 and 304 (and 1xx, skipped above)
        if status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response.header("transfer-encoding").is_some_and(|te| {
            te.split(',')
                .any(|c| c.trim().eq_ignore_ascii_case("chunked"))
        });
        response.body = if chunked {
            read_chunked(&mut input, max_body)?
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| HttpError(format!("bad Content-Length {len:?}")))?;
            if len > max_body {
                return err(format!(
                    "response body of {len} bytes exceeds the limit of {max_body} bytes"
                ));
            }
            input.take(len)?
        } else {
            input.rest(max_body)?
        };
        return Ok(response);
    }
    err("too many interim (1xx) responses")
}

type Head = (u16, String, Vec<(String, String)>);

fn read_head<R: Read>(input: &mut Input<'_, R>) -> Result<Head, HttpError> {
    let start = input.pos;
    let status_line = input.line(MAX_HEAD, "status line")?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        let shown: String = status_line.chars().take(40).collect();
        return err(format!("not an HTTP/1.x response: {shown:?}"));
    }
    let status = parts
        .next()
        .filter(|s| s.len() == 3)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| HttpError(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or_default().trim().to_owned();
    let mut headers = Vec::new();
    loop {
        if input.pos - start > MAX_HEAD {
            return err(format!("response header larger than {MAX_HEAD} bytes"));
        }
        let line = input.line(MAX_HEAD, "response header")?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return err(format!("malformed header line {line:?}"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return err(format!("malformed header line {line:?}"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok((status, reason, headers))
}

fn read_chunked<R: Read>(input: &mut Input<'_, R>, max_body: usize) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = input.line(1024, "chunk size line")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // trailer fields up to the empty line
            loop {
                if input.line(MAX_HEAD, "chunked trailer")?.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len().saturating_add(size) > max_body {
            return err(format!("response body larger than {max_body} bytes"));
        }
        body.extend_from_slice(&input.take(size)?);
        if !input.line(0, "chunk end")?.is_empty() {
            return err("missing CRLF after a chunk");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time, as a slow network would.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(out)) => {
                    *out = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn parse(bytes: &[u8]) -> Result<HttpResponse, HttpError> {
        let whole = read_response(&mut &bytes[..], 1000);
        let trickled = read_response(&mut Trickle(bytes), 1000);
        assert_eq!(whole, trickled);
        whole
    }

    #[test]
    fn openssl_mock_server_answer() {
        let r = parse(b"HTTP/1.0 200 OK\r\nContent-type: application/pkixcmp\r\nContent-Length: 3\r\n\r\n\x30\x01\x00").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.reason, "OK");
        assert_eq!(r.header("Content-Type"), Some("application/pkixcmp"));
        assert_eq!(r.header("CONTENT-LENGTH"), Some("3"));
        assert_eq!(r.body, b"\x30\x01\x00");
        assert_eq!(
            classify_response(r.status, r.header("content-type")),
            HttpOutcome::CmpMessage
        );
    }

    #[test]
    fn content_length_stops_reading() {
        // bytes after the body are not part of it
        let r = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nabcdef").unwrap();
        assert_eq!(r.body, b"ab");
    }

    #[test]
    fn body_until_eof_and_bare_lf() {
        let r = parse(b"HTTP/1.1 200 OK\nContent-Type: application/pkixcmp; charset=x\n\nhello")
            .unwrap();
        assert_eq!(r.body, b"hello");
        assert_eq!(
            classify_response(r.status, r.header("content-type")),
            HttpOutcome::CmpMessage
        );
    }

    #[test]
    fn chunked_body() {
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n").unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n")
                .is_err()
        );
        // over the limit
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n").is_err());
    }

    #[test]
    fn interim_responses_are_skipped() {
        let r = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.reason, "Not Found");
        assert!(r.body.is_empty());
    }

    #[test]
    fn status_without_reason() {
        let r = parse(b"HTTP/1.1 204\r\n\r\n").unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(r.reason, "");
    }

    #[test]
    fn malformed_responses() {
        for bad in [
            &b""[..],
            b"SSH-2.0-OpenSSH\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/2 200\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // body until EOF beyond the limit
        let mut big = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 1001));
        assert!(parse(&big).is_err());
        // endless header
        let mut endless = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        endless.extend(std::iter::repeat_n(b'x', MAX_HEAD + 10));
        assert!(read_response(&mut &endless[..], 1000).is_err());
    }

    #[test]
    fn non_cmp_answers_are_transport_errors() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi")
            .unwrap();
        assert!(matches!(
            classify_response(r.status, r.header("content-type")),
            HttpOutcome::TransportError(_)
        ));
        let r = parse(b"HTTP/1.0 404 Not Found\r\n\r\n").unwrap();
        assert!(matches!(
            classify_response(r.status, r.header("content-type")),
            HttpOutcome::TransportError(_)
        ));
    }

    #[test]
    fn urls() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/.well-known/cmp").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/.well-known/cmp")
        );
        assert_eq!(u.host_header(), "127.0.0.1:8080");
        let u = HttpUrl::parse("HTTP://example.com").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.com", 80, "/")
        );
        assert_eq!(u.host_header(), "example.com");
        let u = HttpUrl::parse("http://[::1]:99/pkix/?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 99, "/pkix/?x=1")
        );
        assert_eq!(u.host_header(), "[::1]:99");
        let e = HttpUrl::parse("https://example.com/").unwrap_err();
        assert!(e.0.contains("https"), "{e}");
        for bad in [
            "127.0.0.1:80/pkix",
            "ftp://x/",
            "http://",
            "http://:80/",
            "http://h:0/",
            "http://h:99999/",
            "http://u@h/",
            "http://[::1/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refused_connection_is_a_transport_error() {
        // a port nobody listens on: bind, learn the port, close
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let e = post(&url, b"x", Instant::now() + Duration::from_secs(5)).unwrap_err();
        assert!(e.0.contains("connect"), "{e}");
    }

    #[test]
    fn round_trip_with_a_local_server() {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = io::BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push(line);
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            stream.write_all(b"HTTP/1.0 200 OK\r\nContent-type: application/pkixcmp\r\nContent-Length: 4\r\n\r\npong").unwrap();
            (head, body)
        });
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/pkix/")).unwrap();
        let body = post_pkixcmp(&url, b"ping", Instant::now() + Duration::from_secs(5)).unwrap();
        assert_eq!(body, b"pong");
        let (head, sent) = server.join().unwrap();
        assert_eq!(head[0], "POST /pkix/ HTTP/1.1\r\n");
        assert!(
            head.contains(&"Content-Type: application/pkixcmp\r\n".to_owned()),
            "{head:?}"
        );
        assert!(
            head.contains(&"Connection: close\r\n".to_owned()),
            "{head:?}"
        );
        assert!(
            head.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{head:?}"
        );
        assert_eq!(sent, b"ping");
    }

    #[test]
    fn silent_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let started = Instant::now();
        let e = post(&url, b"x", Instant::now() + Duration::from_millis(300)).unwrap_err();
        assert!(e.0.contains("timed out"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(listener);
    }
}
