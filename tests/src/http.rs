//! A minimal blocking HTTP/1.1 client for CMP over HTTP (RFC 9811), for
//! tests. It only ever connects to loopback addresses.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The media type of CMP messages over HTTP.
pub const PKIXCMP_CONTENT_TYPE: &str = "application/pkixcmp";

/// Most bytes accepted for the status line and headers together.
const MAX_HEAD: u64 = 64 * 1024;
/// Most bytes accepted for a response body.
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// An HTTP response as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The `Content-Type` header's value, if there was one (as sent, trimmed).
    pub content_type: Option<String>,
    /// All header fields in the order received: (name as sent, trimmed value).
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked if it was sent chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header field called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the media type of `Content-Type` is `application/pkixcmp`
    /// (any case, parameters ignored).
    pub fn is_pkixcmp(&self) -> bool {
        self.content_type.as_deref().is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(PKIXCMP_CONTENT_TYPE))
        })
    }
}

/// POSTs a DER-encoded PKIMessage to `url` (`http://HOST[:PORT]/PATH`) with
/// `Content-Type: application/pkixcmp` and returns the response, whatever its
/// status. See [`http_post`].
///
/// # Errors
/// As [`http_post`].
pub fn http_post_pkixcmp(url: &str, body: &[u8], timeout: Duration) -> io::Result<HttpResponse> {
    http_post(url, PKIXCMP_CONTENT_TYPE, body, timeout)
}

/// POSTs `body` with the given `Content-Type` to `url`
/// (`http://HOST[:PORT]/PATH`, HOST one of `127.0.0.1`, `localhost`, `[::1]`)
/// over a new connection, sending `Connection: close`, and reads the response.
///
/// The body is delimited by `Content-Length`, by chunked transfer coding, or
/// else by the server closing the connection. `timeout` bounds the whole
/// exchange (connect, send, receive).
///
/// # Errors
/// * [`io::ErrorKind::PermissionDenied`] for a host that is not loopback —
///   nothing is resolved or connected then;
/// * [`io::ErrorKind::InvalidInput`] for a URL that is not `http://`, or is
///   malformed;
/// * [`io::ErrorKind::TimedOut`] when the exchange takes longer than
///   `timeout` (OpenSSL 3.0's mock server, for one, never answers a body it
///   cannot parse as DER and keeps the connection open);
/// * [`io::ErrorKind::InvalidData`] for a malformed or oversized response;
/// * any error from the socket.
pub fn http_post(
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let target = LoopbackUrl::parse(url)?;
    if content_type.bytes().any(|b| b.is_ascii_control()) {
        return Err(invalid_input("control character in the content type"));
    }
    let deadline = Instant::now() + timeout;
    let stream = connect(&target.addrs, deadline)?;
    stream.set_nodelay(true)?;

    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        target.path,
        target.authority,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let mut writer = Deadline {
        stream: &stream,
        deadline,
    };
    writer.write_all(&request)?;
    writer.flush()?;

    let mut reader = BufReader::new(Deadline {
        stream: &stream,
        deadline,
    });
    read_response(&mut reader)
}

/// A URL we may talk to.
struct LoopbackUrl {
    /// Addresses to try, in order.
    addrs: Vec<SocketAddr>,
    /// `host[:port]` as given, for the Host header.
    authority: String,
    /// Path and query, starting with `/`.
    path: String,
}

impl LoopbackUrl {
    fn parse(url: &str) -> io::Result<Self> {
        let rest = url
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
            .and_then(|_| url.get(7..))
            .ok_or_else(|| invalid_input(format!("only http:// URLs are supported: {url:?}")))?;
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid_input(format!(
                "bad characters in the path: {url:?}"
            )));
        }
        if authority.contains('@') {
            return Err(invalid_input(format!(
                "user info is not supported: {url:?}"
            )));
        }
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| invalid_input(format!("bad host or port in {url:?}")))?;
        let ips: &[IpAddr] = if host.eq_ignore_ascii_case("localhost") {
            &[
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        } else if host == "127.0.0.1" {
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)]
        } else if host == "[::1]" {
            &[IpAddr::V6(Ipv6Addr::LOCALHOST)]
        } else {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to connect to {host:?}: tests may only use 127.0.0.1, localhost or [::1]"
                ),
            ));
        };
        let addrs = ips
            .iter()
            .filter(|ip| ip.is_loopback())
            .map(|ip| SocketAddr::new(*ip, port))
            .collect();
        Ok(Self {
            addrs,
            authority: authority.to_owned(),
            path,
        })
    }
}

/// Splits `host[:port]` / `[v6]:port`; the port defaults to 80.
fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => 80,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host, port))
}

fn connect(addrs: &[SocketAddr], deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
    for addr in addrs {
        let remaining = remaining(deadline)?;
        match TcpStream::connect_timeout(addr, remaining) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = io::Error::new(e.kind(), format!("connecting to {addr}: {e}")),
        }
    }
    Err(last)
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "HTTP exchange timed out",
        ))
    } else {
        Ok(left)
    }
}

/// A socket whose reads and writes fail with `TimedOut` past a deadline.
struct Deadline<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

fn timed_out(e: io::Error) -> io::Error {
    // Socket timeouts surface as WouldBlock on Unix and TimedOut on Windows.
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        io::Error::new(io::ErrorKind::TimedOut, "HTTP exchange timed out")
    } else {
        e
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream
            .set_read_timeout(Some(remaining(self.deadline)?))?;
        self.stream.read(buf).map_err(timed_out)
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        self.stream.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

fn invalid_input(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn invalid_data(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one response (skipping interim 1xx ones).
fn read_response<R: BufRead>(reader: &mut R) -> io::Result<HttpResponse> {
    let mut head_budget = MAX_HEAD;
    loop {
        let status_line = read_line(reader, &mut head_budget)?
            .ok_or_else(|| invalid_data("connection closed before any response"))?;
        let status = parse_status_line(&status_line)?;
        let headers = read_headers(reader, &mut head_budget)?;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let content_type = find("content-type");
        let chunked = headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("transfer-encoding")
                && v.split(',')
                    .any(|c| c.trim().eq_ignore_ascii_case("chunked"))
        });
        let body = if status == 204 || status == 304 || status == 101 {
            Vec::new()
        } else if chunked {
            read_chunked(reader, &mut head_budget)?
        } else if let Some(length) = content_length(&headers)? {
            read_exact_body(reader, length)?
        } else {
            read_to_close(reader)?
        };
        return Ok(HttpResponse {
            status,
            content_type,
            headers,
            body,
        });
    }
}

/// One line without its `\r\n` / `\n`; `None` at a clean end of stream.
fn read_line<R: BufRead>(reader: &mut R, budget: &mut u64) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(*budget).read_until(b'\n', &mut line)?;
    *budget = budget.saturating_sub(n as u64);
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if *budget == 0 {
            invalid_data("HTTP response head too long")
        } else {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the HTTP response head",
            )
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| invalid_data("HTTP response head is not UTF-8"))
}

fn parse_status_line(line: &str) -> io::Result<u16> {
    let bad = || invalid_data(format!("bad HTTP status line: {line:?}"));
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().ok_or_else(bad)?;
    if !version.starts_with("HTTP/1.") {
        return Err(bad());
    }
    let code = parts.next().ok_or_else(bad)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    code.parse().map_err(|_| bad())
}

fn read_headers<R: BufRead>(reader: &mut R, budget: &mut u64) -> io::Result<Vec<(String, String)>> {
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let line = read_line(reader, budget)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the HTTP headers",
            )
        })?;
        if line.is_empty() {
            return Ok(headers);
        }
        if line.starts_with([' ', '\t']) {
            // obsolete line folding: continues the previous field
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| invalid_data("HTTP header continuation without a header"))?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid_data(format!("bad HTTP header line: {line:?}")))?;
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(invalid_data(format!("bad HTTP header name: {line:?}")));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
}

fn content_length(headers: &[(String, String)]) -> io::Result<Option<u64>> {
    let mut length = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid_data(format!("bad Content-Length: {value:?}")));
            }
            let n: u64 = part
                .parse()
                .map_err(|_| invalid_data(format!("bad Content-Length: {value:?}")))?;
            if length.is_some_and(|l| l != n) {
                return Err(invalid_data("conflicting Content-Length headers"));
            }
            length = Some(n);
        }
    }
    Ok(length)
}

fn read_exact_body<R: Read>(reader: &mut R, length: u64) -> io::Result<Vec<u8>> {
    if length > MAX_BODY {
        return Err(invalid_data(format!(
            "HTTP body of {length} bytes is too large"
        )));
    }
    let mut body = Vec::new();
    let got = reader.take(length).read_to_end(&mut body)?;
    if (got as u64) < length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("HTTP body ended after {got} of {length} bytes"),
        ));
    }
    Ok(body)
}

fn read_to_close<R: Read>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    reader.take(MAX_BODY + 1).read_to_end(&mut body)?;
    if body.len() as u64 > MAX_BODY {
        return Err(invalid_data("HTTP body is too large"));
    }
    Ok(body)
}

fn read_chunked<R: BufRead>(reader: &mut R, budget: &mut u64) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, budget)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside a chunked body",
            )
        })?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| invalid_data(format!("bad chunk size line: {line:?}")))?;
        if size == 0 {
            // trailer fields, up to the empty line
            read_headers(reader, budget)?;
            return Ok(body);
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(invalid_data("HTTP body is too large"));
        }
        body.extend(read_exact_body(reader, size)?);
        match read_line(reader, budget)? {
            Some(end) if end.is_empty() => {}
            _ => return Err(invalid_data("chunk not followed by CRLF")),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> io::Result<HttpResponse> {
        read_response(&mut BufReader::new(raw))
    }

    #[test]
    fn openssl_style_response() {
        // exactly what OpenSSL 3.0's mock server sends
        let r = parse(
            b"HTTP/1.0 200 OK\r\nContent-type: application/pkixcmp\r\nContent-Length: 3\r\n\r\n\x30\x01\x00trailing",
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type.as_deref(), Some("application/pkixcmp"));
        assert!(r.is_pkixcmp());
        assert_eq!(r.body, b"\x30\x01\x00");
        assert_eq!(r.header("CONTENT-LENGTH"), Some("3"));
    }

    #[test]
    fn no_length_reads_to_close() {
        let r = parse(b"HTTP/1.0 404 Not Found\r\n\r\n").unwrap();
        assert_eq!(r.status, 404);
        assert!(r.body.is_empty());
        assert_eq!(r.content_type, None);
        let r = parse(b"HTTP/1.1 200 OK\nX: y\n\nabc").unwrap();
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn chunked_and_interim() {
        let r = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\
              Content-Type: application/pkixcmp; x=1\r\n\r\n2;ext\r\n\x30\x00\r\n1\r\nZ\r\n0\r\nT: v\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert!(r.is_pkixcmp());
        assert_eq!(r.body, b"\x30\x00Z");
    }

    #[test]
    fn malformed_responses() {
        assert!(parse(b"").is_err());
        assert!(parse(b"SMTP 220 hi\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc").is_err());
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").is_err()
        );
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nA: b\r\n").is_err());
    }

    #[test]
    fn url_parsing() {
        let u = LoopbackUrl::parse("http://127.0.0.1:8080/pkix/").unwrap();
        assert_eq!(u.addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(u.authority, "127.0.0.1:8080");
        assert_eq!(u.path, "/pkix/");
        let u = LoopbackUrl::parse("HTTP://[::1]:9/a?b#frag").unwrap();
        assert_eq!(u.addrs, vec!["[::1]:9".parse().unwrap()]);
        assert_eq!(u.path, "/a?b");
        let u = LoopbackUrl::parse("http://localhost").unwrap();
        assert_eq!(u.addrs.len(), 2);
        assert!(
            u.addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 80)
        );
        assert_eq!(u.path, "/");

        for bad in [
            "https://127.0.0.1/",
            "127.0.0.1:80/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:x/",
            "http://[::1/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1/a b",
        ] {
            let e = LoopbackUrl::parse(bad).err().unwrap();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        for remote in [
            "http://example.com/",
            "http://127.0.0.2/",
            "http://10.0.0.1:80/",
            "http://[::2]/",
            "http://0.0.0.0/",
            "http://localhost.example.com/",
        ] {
            let e = LoopbackUrl::parse(remote).err().unwrap();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{remote}");
        }
    }
}
