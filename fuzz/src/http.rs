//! A raw HTTP/1.1 request, read the way `tests/sigv4_vectors.rs` reads the SigV4 suites' files
//! (a folded line continues the header's value), but total: any bytes give some request.

use edge_revoke::sigv4::RequestParts;

/// A request as SigV4 sees it.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The parts `sigv4::verify` and `sigv4::sign` take.
    pub fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Parses `raw`; `None` when the head is not UTF-8 or has no request line.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let split = raw.windows(2).position(|w| w == b"\n\n");
        let (head, body) = match split {
            Some(i) => (&raw[..i], raw[i + 2..].to_vec()),
            None => (raw, Vec::new()),
        };
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let request_line = lines.next()?;
        let (method, rest) = request_line.split_once(' ')?;
        let target = match rest.rsplit_once(' ') {
            Some((target, _version)) => target,
            None => rest,
        };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push('\n');
                    last.1.push_str(line);
                }
                continue;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            headers.push((name.to_owned(), value.to_owned()));
        }
        Some(Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body,
        })
    }
}
