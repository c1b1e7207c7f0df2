//! SigV4 against the two public suites in `shared/vectors/sigv4/` (see
//! `shared/vectors/README.md` section 4), plus round trips, rejections and a no-panic sweep.
//!
//! Both suites: access key `AKIDEXAMPLE`, region `us-east-1`, service `service`,
//! time `20150830T123600Z`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use edge_revoke::sigv4::{
    canonical_request, format_amz_date, parse_amz_date, sign, signing_key, string_to_sign, verify,
    RequestParts, SigV4Error, Verified,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const SERVICE: &str = "service";
const AMZ_DATE: &str = "20150830T123600Z";
const SCOPE: &str = "20150830/us-east-1/service/aws4_request";
/// 2015-08-30T12:36:00Z.
const SUITE_MS: u64 = 1_440_938_160_000;
const MINUTE_MS: u64 = 60_000;
const SKEW_MS: u64 = 15 * MINUTE_MS;

const AWS_SUITE_CASES: usize = 31;
const AWS_C_AUTH_CASES: usize = 38;

const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";
const BAD_TOKEN: &str = "The security token included in the request is invalid.";

// ---------------------------------------------------------------------------------------
// Loading the suites

fn vectors_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/sigv4")
}

/// How a suite's raw request files mean a folded (obs-fold) header line.
///
/// The suites disagree on `get-header-value-multiline`: the 2015 AWS suite's files were
/// made by reading each continuation line as one more value of the header (canonical
/// `value1,value2,value3`), aws-c-auth keeps the fold in the value, which canonicalisation
/// collapses to one space (`value1 value2 value3`, as botocore and the JS SDK v3 do). This
/// is a property of how the raw file is parsed, not of the signer, so each suite is read
/// its own way and the library implements the aws-c-auth/SDK rule.
#[derive(Clone, Copy)]
enum Folding {
    ContinuationIsAnotherValue,
    KeepFoldInValue,
}

#[derive(Clone, Debug)]
struct HttpRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn set_header(&mut self, name: &str, value: &str) {
        let slot = self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no {name} header"));
        slot.1 = value.to_owned();
    }

    fn without_header(&self, name: &str) -> HttpRequest {
        let mut r = self.clone();
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        r
    }

    fn authorization(&self) -> &str {
        self.header("authorization")
            .expect("signed request has Authorization")
    }
}

/// Parse a raw HTTP/1.1 request file. The request target may contain spaces
/// (`get-space`), so the method ends at the first space and the version starts at the last.
fn parse_http(raw: &[u8], folding: Folding) -> HttpRequest {
    let split = raw.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&raw[..i], raw[i + 2..].to_vec()),
        None => (raw, Vec::new()),
    };
    let head = std::str::from_utf8(head).expect("request head is UTF-8");
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().expect("request line");
    let (method, rest) = request_line.split_once(' ').expect("method");
    let (target, _version) = rest.rsplit_once(' ').expect("version");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("continuation after a header");
            match folding {
                Folding::ContinuationIsAnotherValue => {
                    let name = last.0.clone();
                    headers.push((name, line.trim().to_owned()));
                }
                Folding::KeepFoldInValue => {
                    last.1.push('\n');
                    last.1.push_str(line);
                }
            }
            continue;
        }
        let (name, value) = line.split_once(':').expect("header line has ':'");
        headers.push((name.to_owned(), value.to_owned()));
    }
    HttpRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
    }
}

fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn signed_headers_of(authorization: &str) -> Vec<String> {
    let start = authorization.find("SignedHeaders=").expect("SignedHeaders") + 14;
    let rest = &authorization[start..];
    let end = rest.find(',').unwrap_or(rest.len());
    rest[..end].split(';').map(str::to_owned).collect()
}

fn signature_of(authorization: &str) -> &str {
    let start = authorization.find("Signature=").expect("Signature") + 10;
    &authorization[start..]
}

fn hmac_hex(key: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// One case of the 2015 AWS suite: `<dir>/<name>.{req,creq,sts,authz,sreq}`.
struct AwsCase {
    name: String,
    request: HttpRequest,
    creq: String,
    sts: String,
    authz: String,
    signed_request: HttpRequest,
    /// Which headers the `.sts` was computed over.
    signed_headers: Vec<String>,
}

/// The 2015 suite's known errata, applied explicitly. Each is a case whose `.sts` (and so
/// its signature) was computed from a request other than the one its `.req`/`.creq` show;
/// `.sts`/`.authz` are taken as truth (README section 4.2).
///
/// * `post-x-www-form-urlencoded`: `.creq` lists `content-length:13` and signs it, but
///   `.sts`, `.authz` and `.sreq` were computed without it.
/// * `post-x-www-form-urlencoded-parameters`: the same, and worse (found here, not in the
///   README): its `.sts` hashes a canonical request whose content type is
///   `application/x-www-form-urlencoded; charset=utf8` (no hyphen), while `.req`, `.creq`
///   and `.sreq` say `charset=utf-8`; its `.authz` also lists `content-length` in
///   SignedHeaders although the signature was made without it (`.sreq` does not list it).
///
/// Correction: drop content-length from the signed headers and the expected `.creq`, and
/// for the second case read the content type as `charset=utf8` in `.req`, `.creq` and
/// `.sreq`. The corrected `.creq` must then hash to the `.sts` line, which the canonical-
/// request test proves. `errata_in_the_aws_suite_are_real` shows the uncorrected forms fail.
const AWS_SUITE_ERRATA: [&str; 2] = [
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
];

fn aws_suite_case_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                if path.join(format!("{name}.req")).is_file() {
                    out.push(path.clone());
                }
                walk(&path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&vectors_root().join("aws-sig-v4-test-suite"), &mut out);
    out.sort();
    out
}

fn load_aws_case(dir: &Path, apply_errata: bool) -> AwsCase {
    let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
    let file = |ext: &str| dir.join(format!("{name}.{ext}"));
    let folding = Folding::ContinuationIsAnotherValue;
    let mut case = AwsCase {
        request: parse_http(&read_bytes(&file("req")), folding),
        creq: read_text(&file("creq")),
        sts: read_text(&file("sts")),
        authz: read_text(&file("authz")).trim_end().to_owned(),
        signed_request: parse_http(&read_bytes(&file("sreq")), folding),
        signed_headers: Vec::new(),
        name,
    };
    case.signed_headers = signed_headers_of(&case.authz);
    if apply_errata && AWS_SUITE_ERRATA.contains(&case.name.as_str()) {
        case.creq = case
            .creq
            .replace("content-length:13\n", "")
            .replace("content-length;", "");
        case.signed_headers.retain(|h| h != "content-length");
        if case.name == "post-x-www-form-urlencoded-parameters" {
            let (from, to) = ("charset=utf-8", "charset=utf8");
            case.creq = case.creq.replace(from, to);
            for r in [&mut case.request, &mut case.signed_request] {
                let ct = r.header("content-type").unwrap().replace(from, to);
                r.set_header("content-type", &ct);
            }
            // `.authz` disagrees with its own signature; `.sreq`'s header is the consistent one.
            case.authz = case.signed_request.authorization().to_owned();
        }
    }
    case
}

fn aws_cases() -> Vec<AwsCase> {
    let cases: Vec<AwsCase> = aws_suite_case_dirs()
        .iter()
        .map(|d| load_aws_case(d, true))
        .collect();
    assert_eq!(cases.len(), AWS_SUITE_CASES, "AWS suite case count");
    let errata = cases
        .iter()
        .filter(|c| AWS_SUITE_ERRATA.contains(&c.name.as_str()))
        .count();
    assert_eq!(
        errata,
        AWS_SUITE_ERRATA.len(),
        "every erratum names a real case"
    );
    cases
}

/// One aws-c-auth case; only the `header-*` files (presigned `query-*` is out of scope).
struct CrtCase {
    name: String,
    normalize: bool,
    sign_body: bool,
    token: Option<String>,
    omit_session_token: bool,
    request: HttpRequest,
    creq: String,
    sts: String,
    signature: String,
    signed_request: HttpRequest,
}

impl CrtCase {
    /// The session token that is signed (none when the context says to add it afterwards).
    fn signed_token(&self) -> Option<&str> {
        self.token.as_deref().filter(|_| !self.omit_session_token)
    }

    /// `request.txt` plus the headers the signer adds before signing, as `context.json` says.
    fn request_to_sign(&self) -> HttpRequest {
        let mut r = self.request.clone();
        r.headers
            .push(("X-Amz-Date".to_owned(), AMZ_DATE.to_owned()));
        if let Some(token) = self.signed_token() {
            r.headers
                .push(("X-Amz-Security-Token".to_owned(), token.to_owned()));
        }
        if self.sign_body {
            let hash = hex::encode(<Sha256 as sha2::Digest>::digest(&r.body));
            r.headers.push(("x-amz-content-sha256".to_owned(), hash));
        }
        r
    }
}

fn crt_cases() -> Vec<CrtCase> {
    let root = vectors_root().join("aws-c-auth-v4");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").is_file())
        .collect();
    dirs.sort();
    let folding = Folding::KeepFoldInValue;
    let cases: Vec<CrtCase> = dirs
        .iter()
        .map(|dir| {
            let ctx: serde_json::Value =
                serde_json::from_str(&read_text(&dir.join("context.json"))).unwrap();
            let creds = &ctx["credentials"];
            assert_eq!(creds["access_key_id"], AKID);
            assert_eq!(creds["secret_access_key"], SECRET);
            assert_eq!(ctx["region"], REGION);
            assert_eq!(ctx["service"], SERVICE);
            assert_eq!(ctx["timestamp"], "2015-08-30T12:36:00Z");
            CrtCase {
                name: dir.file_name().unwrap().to_str().unwrap().to_owned(),
                normalize: ctx["normalize"].as_bool().unwrap(),
                sign_body: ctx["sign_body"].as_bool().unwrap_or(false),
                token: creds["token"].as_str().map(str::to_owned),
                omit_session_token: ctx["omit_session_token"].as_bool().unwrap_or(false),
                request: parse_http(&read_bytes(&dir.join("request.txt")), folding),
                creq: read_text(&dir.join("header-canonical-request.txt")),
                sts: read_text(&dir.join("header-string-to-sign.txt")),
                signature: read_text(&dir.join("header-signature.txt"))
                    .trim()
                    .to_owned(),
                signed_request: parse_http(
                    &read_bytes(&dir.join("header-signed-request.txt")),
                    folding,
                ),
            }
        })
        .collect();
    assert_eq!(cases.len(), AWS_C_AUTH_CASES, "aws-c-auth case count");
    cases
}

fn lookup_example(akid: &str) -> Option<String> {
    (akid == AKID).then(|| SECRET.to_owned())
}

fn verify_at(req: &HttpRequest, now_ms: u64) -> Result<Verified, SigV4Error> {
    verify(&req.parts(), SERVICE, now_ms, SKEW_MS, &lookup_example)
}

fn suite_verified() -> Verified {
    Verified {
        access_key_id: AKID.to_owned(),
        region: REGION.to_owned(),
        date: "20150830".to_owned(),
        amz_date: AMZ_DATE.to_owned(),
    }
}

fn assert_error(result: Result<Verified, SigV4Error>, aws_type: &str, message: &str, case: &str) {
    match result {
        Ok(v) => panic!("{case}: verified as {v:?}, expected {aws_type}"),
        Err(e) => {
            assert_eq!(e.aws_error_type(), aws_type, "{case}: {e:?}");
            assert_eq!(e.aws_message(), message, "{case}: {e:?}");
        }
    }
}

/// Every signed request of both suites that a service verifying with path normalisation
/// and without session tokens must accept at the suite time, by name.
///
/// Left out, with counts asserted so they cannot grow unnoticed: the session-token cases
/// (2 AWS, 3 aws-c-auth: we answer UnrecognizedClientException, see
/// `session_token_cases_answer_unrecognized_client`) and the aws-c-auth `normalize: false`
/// cases whose path normalises differently (6: a non-S3 service normalises, so those
/// signatures are wrong for it; see `unnormalized_signatures_fail_where_normalising_changes_the_path`).
fn acceptable_signed_requests() -> Vec<(String, HttpRequest)> {
    let mut out = Vec::new();
    let mut tokens = 0;
    for c in aws_cases() {
        if c.signed_request.header("x-amz-security-token").is_some() {
            tokens += 1;
            continue;
        }
        out.push((format!("aws/{}", c.name), c.signed_request));
    }
    assert_eq!(tokens, 2, "AWS suite session-token cases");
    let (mut tokens, mut unnormalized) = (0, 0);
    for c in crt_cases() {
        if c.signed_request.header("x-amz-security-token").is_some() {
            tokens += 1;
            continue;
        }
        if !c.normalize && !normalising_keeps_path(&c) {
            unnormalized += 1;
            continue;
        }
        out.push((format!("aws-c-auth/{}", c.name), c.signed_request));
    }
    assert_eq!(tokens, 3, "aws-c-auth session-token cases");
    assert_eq!(
        unnormalized, 6,
        "aws-c-auth unnormalised cases that normalise differently"
    );
    assert_eq!(out.len(), 29 + 29);
    out
}

fn normalising_keeps_path(c: &CrtCase) -> bool {
    let r = c.request_to_sign();
    let names = signed_headers_of(c.signed_request.authorization());
    canonical_request(&r.parts(), &names, true).unwrap()
        == canonical_request(&r.parts(), &names, false).unwrap()
}

fn with_authorization(req: &HttpRequest, edit: impl Fn(&str) -> String) -> HttpRequest {
    let mut r = req.clone();
    let new = edit(r.authorization());
    r.set_header("authorization", &new);
    r
}

// ---------------------------------------------------------------------------------------
// The 2015 AWS suite

#[test]
fn every_aws_suite_case_reproduces_its_canonical_request() {
    for c in aws_cases() {
        let creq = canonical_request(&c.request.parts(), &c.signed_headers, true).unwrap();
        assert_eq!(creq, c.creq, "{}", c.name);
    }
}

#[test]
fn every_aws_suite_case_reproduces_its_string_to_sign() {
    for c in aws_cases() {
        let creq = canonical_request(&c.request.parts(), &c.signed_headers, true).unwrap();
        assert_eq!(string_to_sign(AMZ_DATE, SCOPE, &creq), c.sts, "{}", c.name);
    }
}

#[test]
fn every_aws_suite_case_reproduces_its_signature() {
    let key = signing_key(SECRET, "20150830", REGION, SERVICE);
    for c in aws_cases() {
        let creq = canonical_request(&c.request.parts(), &c.signed_headers, true).unwrap();
        let sts = string_to_sign(AMZ_DATE, SCOPE, &creq);
        assert_eq!(hmac_hex(&key, &sts), signature_of(&c.authz), "{}", c.name);
    }
}

#[test]
fn sign_reproduces_every_aws_suite_authorization_header() {
    for c in aws_cases() {
        // Sign exactly the headers the suite signed (this drops Content-Length from the two
        // errata cases); the session token, where signed, is passed as the token.
        let mut r = c.request.clone();
        r.headers
            .retain(|(n, _)| c.signed_headers.contains(&n.to_ascii_lowercase()));
        let token = r.header("x-amz-security-token").map(str::to_owned);
        let added = sign(
            &r.parts(),
            AKID,
            SECRET,
            REGION,
            SERVICE,
            AMZ_DATE,
            token.as_deref(),
            false,
        )
        .unwrap();
        let mut expected = vec![("x-amz-date".to_owned(), AMZ_DATE.to_owned())];
        if let Some(t) = token {
            expected.push(("x-amz-security-token".to_owned(), t));
        }
        expected.push(("authorization".to_owned(), c.authz.clone()));
        assert_eq!(added, expected, "{}", c.name);
        assert_eq!(
            c.signed_request.authorization(),
            c.authz,
            "{}: .sreq",
            c.name
        );
    }
}

#[test]
fn errata_in_the_aws_suite_are_real() {
    let key = signing_key(SECRET, "20150830", REGION, SERVICE);
    let mut seen = 0;
    for dir in aws_suite_case_dirs() {
        let raw = load_aws_case(&dir, false);
        if !AWS_SUITE_ERRATA.contains(&raw.name.as_str()) {
            continue;
        }
        seen += 1;
        // As published, the canonical request does not hash to the string to sign ...
        let sts_hash = raw.sts.rsplit('\n').next().unwrap();
        let creq_hash = hex::encode(<Sha256 as sha2::Digest>::digest(raw.creq.as_bytes()));
        assert_ne!(creq_hash, sts_hash, "{}", raw.name);
        // ... though the signature is the string to sign's ...
        assert_eq!(
            hmac_hex(&key, &raw.sts),
            signature_of(&raw.authz),
            "{}",
            raw.name
        );
        // ... and so nothing verifies the uncorrected signed request but the first case,
        // whose .sreq (unlike its .req/.creq) has no Content-Length.
        let verdict = verify_at(&raw.signed_request, SUITE_MS);
        if raw.name == "post-x-www-form-urlencoded" {
            assert_eq!(verdict, Ok(suite_verified()), "{}", raw.name);
        } else {
            assert_eq!(verdict, Err(SigV4Error::SignatureMismatch), "{}", raw.name);
        }
    }
    assert_eq!(seen, AWS_SUITE_ERRATA.len());
}

// ---------------------------------------------------------------------------------------
// The aws-c-auth suite

#[test]
fn every_aws_c_auth_case_reproduces_its_canonical_request() {
    for c in crt_cases() {
        let r = c.request_to_sign();
        let names: Vec<String> = r
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let creq = canonical_request(&r.parts(), &names, c.normalize).unwrap();
        assert_eq!(creq, c.creq, "{}", c.name);
    }
}

#[test]
fn every_aws_c_auth_case_reproduces_its_string_to_sign() {
    for c in crt_cases() {
        let r = c.request_to_sign();
        let names: Vec<String> = r
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let creq = canonical_request(&r.parts(), &names, c.normalize).unwrap();
        assert_eq!(string_to_sign(AMZ_DATE, SCOPE, &creq), c.sts, "{}", c.name);
    }
}

#[test]
fn every_aws_c_auth_case_reproduces_its_signature() {
    let key = signing_key(SECRET, "20150830", REGION, SERVICE);
    for c in crt_cases() {
        let r = c.request_to_sign();
        let names: Vec<String> = r
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let creq = canonical_request(&r.parts(), &names, c.normalize).unwrap();
        let sts = string_to_sign(AMZ_DATE, SCOPE, &creq);
        assert_eq!(hmac_hex(&key, &sts), c.signature, "{}", c.name);
        assert_eq!(
            signature_of(c.signed_request.authorization()),
            c.signature,
            "{}: signed request",
            c.name
        );
    }
}

#[test]
fn sign_reproduces_every_normalized_aws_c_auth_signed_request() {
    // `sign` always normalises the path (every service but S3 does), so the 7 cases with
    // `normalize: false` are left to the building-block tests above, which pass the flag.
    let mut skipped = 0;
    for c in crt_cases() {
        if !c.normalize {
            skipped += 1;
            continue;
        }
        let added = sign(
            &c.request.parts(),
            AKID,
            SECRET,
            REGION,
            SERVICE,
            AMZ_DATE,
            c.signed_token(),
            c.sign_body,
        )
        .unwrap();
        let mut expected = vec![("x-amz-date".to_owned(), AMZ_DATE.to_owned())];
        if let Some(t) = c.signed_token() {
            expected.push(("x-amz-security-token".to_owned(), t.to_owned()));
        }
        if c.sign_body {
            let v = c.signed_request.header("x-amz-content-sha256").unwrap();
            expected.push(("x-amz-content-sha256".to_owned(), v.to_owned()));
        }
        let authz = c.signed_request.authorization().to_owned();
        expected.push(("authorization".to_owned(), authz));
        assert_eq!(added, expected, "{}", c.name);
    }
    assert_eq!(skipped, 7, "aws-c-auth cases with normalize: false");
}

#[test]
fn unnormalized_signatures_fail_where_normalising_changes_the_path() {
    let (mut accepted, mut rejected) = (0, 0);
    for c in crt_cases().into_iter().filter(|c| !c.normalize) {
        let verdict = verify_at(&c.signed_request, SUITE_MS);
        if normalising_keeps_path(&c) {
            assert_eq!(verdict, Ok(suite_verified()), "{}", c.name);
            accepted += 1;
        } else {
            assert_eq!(verdict, Err(SigV4Error::SignatureMismatch), "{}", c.name);
            rejected += 1;
        }
    }
    // Only get-space-unnormalized has a path that normalisation leaves alone.
    assert_eq!((accepted, rejected), (1, 6));
}

// ---------------------------------------------------------------------------------------
// verify: acceptance and rejection over both suites

#[test]
fn verify_accepts_every_signed_request_in_both_suites() {
    for (name, req) in acceptable_signed_requests() {
        assert_eq!(verify_at(&req, SUITE_MS), Ok(suite_verified()), "{name}");
        // Anywhere within the skew, either way.
        assert_eq!(
            verify_at(&req, SUITE_MS + SKEW_MS),
            Ok(suite_verified()),
            "{name}"
        );
        assert_eq!(
            verify_at(&req, SUITE_MS - SKEW_MS),
            Ok(suite_verified()),
            "{name}"
        );
    }
}

#[test]
fn session_token_cases_answer_unrecognized_client() {
    let mut with_token: Vec<(String, HttpRequest)> = Vec::new();
    for c in aws_cases() {
        if c.signed_request.header("x-amz-security-token").is_some() {
            with_token.push((format!("aws/{}", c.name), c.signed_request));
        }
    }
    for c in crt_cases() {
        if c.signed_request.header("x-amz-security-token").is_some() {
            with_token.push((format!("aws-c-auth/{}", c.name), c.signed_request));
        }
    }
    assert_eq!(
        with_token.len(),
        5,
        "2 AWS + 3 aws-c-auth session-token cases"
    );
    for (name, req) in &with_token {
        let t = "UnrecognizedClientException";
        assert_error(verify_at(req, SUITE_MS), t, BAD_TOKEN, name);
        // The token is refused before scope, time, key or signature are looked at.
        let far = verify_at(req, SUITE_MS + 100 * SKEW_MS);
        assert_error(far, t, BAD_TOKEN, name);
        let s3 = with_authorization(req, |a| a.replace("/service/", "/s3/"));
        assert_error(verify_at(&s3, SUITE_MS), t, BAD_TOKEN, name);
        let mut bad_sig = with_authorization(req, flip_signature_digit);
        bad_sig.body.push(b'!');
        assert_error(verify_at(&bad_sig, SUITE_MS), t, BAD_TOKEN, name);
    }
}

fn flip_signature_digit(authorization: &str) -> String {
    let sig_at = authorization.find("Signature=").unwrap() + 10;
    let mut chars: Vec<char> = authorization.chars().collect();
    chars[sig_at] = if chars[sig_at] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

#[test]
fn verify_rejects_every_case_with_one_flipped_signature_digit() {
    for (name, req) in acceptable_signed_requests() {
        let r = with_authorization(&req, flip_signature_digit);
        assert_error(
            verify_at(&r, SUITE_MS),
            "InvalidSignatureException",
            MISMATCH,
            &name,
        );
    }
}

#[test]
fn verify_rejects_every_case_under_the_wrong_secret() {
    let wrong = |akid: &str| (akid == AKID).then(|| SECRET.replace('K', "k"));
    for (name, req) in acceptable_signed_requests() {
        let verdict = verify(&req.parts(), SERVICE, SUITE_MS, SKEW_MS, &wrong);
        assert_error(verdict, "InvalidSignatureException", MISMATCH, &name);
    }
}

#[test]
fn verify_rejects_every_case_from_an_unknown_key_id() {
    let nobody = |_: &str| None;
    for (name, req) in acceptable_signed_requests() {
        let verdict = verify(&req.parts(), SERVICE, SUITE_MS, SKEW_MS, &nobody);
        assert_error(verdict, "UnrecognizedClientException", BAD_TOKEN, &name);
        let other = with_authorization(&req, |a| a.replace("AKIDEXAMPLE/", "AKIDOTHER/"));
        let verdict = verify_at(&other, SUITE_MS);
        assert_error(verdict, "UnrecognizedClientException", BAD_TOKEN, &name);
    }
}

#[test]
fn verify_rejects_every_case_sixteen_minutes_later_as_expired() {
    let message = "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z \
                   (20150830T125200Z - 15 min.)";
    for (name, req) in acceptable_signed_requests() {
        let verdict = verify_at(&req, SUITE_MS + 16 * MINUTE_MS);
        assert_error(verdict, "InvalidSignatureException", message, &name);
    }
}

#[test]
fn verify_rejects_every_case_sixteen_minutes_earlier_as_not_yet_current() {
    let message = "Signature not yet current: 20150830T123600Z is still later than \
                   20150830T123500Z (20150830T122000Z + 15 min.)";
    for (name, req) in acceptable_signed_requests() {
        let verdict = verify_at(&req, SUITE_MS - 16 * MINUTE_MS);
        assert_error(verdict, "InvalidSignatureException", message, &name);
    }
}

#[test]
fn verify_rejects_every_case_scoped_to_s3() {
    let message = "Credential should be scoped to correct service: 'service'. ";
    for (name, req) in acceptable_signed_requests() {
        let r = with_authorization(&req, |a| a.replace("/service/", "/s3/"));
        assert_error(
            verify_at(&r, SUITE_MS),
            "InvalidSignatureException",
            message,
            &name,
        );
    }
}

#[test]
fn verify_rejects_every_case_whose_scope_date_is_not_the_request_day() {
    let message = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                   date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.";
    for (name, req) in acceptable_signed_requests() {
        let r = with_authorization(&req, |a| a.replace("/20150830/", "/20150831/"));
        assert_error(
            verify_at(&r, SUITE_MS),
            "InvalidSignatureException",
            message,
            &name,
        );
    }
}

#[test]
fn verify_rejects_every_case_without_authorization() {
    for (name, req) in acceptable_signed_requests() {
        let r = req.without_header("authorization");
        let t = "MissingAuthenticationTokenException";
        assert_error(
            verify_at(&r, SUITE_MS),
            t,
            "Missing Authentication Token",
            &name,
        );
    }
}

#[test]
fn verify_rejects_every_case_whose_body_changed_after_signing() {
    for (name, req) in acceptable_signed_requests() {
        let mut r = req.clone();
        r.body.extend_from_slice(b"&Param2=value2");
        assert_error(
            verify_at(&r, SUITE_MS),
            "InvalidSignatureException",
            MISMATCH,
            &name,
        );
    }
}

#[test]
fn verify_rejects_every_case_whose_signed_header_value_changed() {
    for (name, req) in acceptable_signed_requests() {
        let mut r = req.clone();
        r.set_header("host", "attacker.example.com");
        assert_error(
            verify_at(&r, SUITE_MS),
            "InvalidSignatureException",
            MISMATCH,
            &name,
        );
        // Whitespace inside a value is canonicalised away, so this alone is not a change.
        let mut spaced = req.clone();
        spaced.set_header("host", "  example.amazonaws.com ");
        assert_eq!(verify_at(&spaced, SUITE_MS), Ok(suite_verified()), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Format checks

fn get_vanilla() -> HttpRequest {
    aws_cases()
        .into_iter()
        .find(|c| c.name == "get-vanilla")
        .unwrap()
        .signed_request
}

fn assert_incomplete(result: Result<Verified, SigV4Error>, needle: &str, case: &str) {
    match result {
        Err(e @ SigV4Error::IncompleteSignature(_)) => {
            assert_eq!(e.aws_error_type(), "IncompleteSignatureException");
            assert!(
                e.aws_message().contains(needle),
                "{case}: {:?}",
                e.aws_message()
            );
            assert!(
                !e.aws_message().contains("5fa00fa3"),
                "{case}: signature echoed"
            );
        }
        other => panic!("{case}: expected IncompleteSignature, got {other:?}"),
    }
}

#[test]
fn verify_answers_incomplete_signature_for_malformed_authorization() {
    let req = get_vanilla();
    let a = req.authorization().to_owned();
    let sig = signature_of(&a).to_owned();
    let cases: Vec<(&str, String, &str)> = vec![
        ("bearer", "Bearer abc".into(), "AWS4-HMAC-SHA256"),
        ("no space after algorithm", a.replacen(' ', "", 1), "AWS4-HMAC-SHA256"),
        ("lowercase algorithm", a.replace("AWS4-HMAC-SHA256", "aws4-hmac-sha256"), "algorithm"),
        (
            "no credential",
            format!("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={sig}"),
            "requires 'Credential' parameter",
        ),
        ("nothing", "AWS4-HMAC-SHA256 ".into(), "requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."),
        (
            "no signature",
            a.split(", Signature=").next().unwrap().to_owned(),
            "requires 'Signature' parameter",
        ),
        ("repeated", format!("{a}, Signature={sig}"), "repeats the 'Signature'"),
        ("unknown", format!("{a}, Foo=bar"), "unknown parameter"),
        ("trailing comma", format!("{a},"), "name=value"),
        ("terminator", a.replace("aws4_request", "aws5_request"), "terminator"),
        ("short credential", a.replace("/us-east-1", ""), "5 slash-separated"),
        ("long credential", a.replace("/service/", "/service/x/"), "5 slash-separated"),
        ("empty key id", a.replace("AKIDEXAMPLE", ""), "non-empty"),
        ("no host", a.replace("host;", ""), "'Host' or ':authority' must be a 'SignedHeader'"),
        ("uppercase signed", a.replace("host;", "Host;"), "lowercase"),
        ("unsorted", a.replace("host;x-amz-date", "x-amz-date;host"), "sorted"),
        ("duplicate", a.replace("host;", "host;host;"), "sorted"),
        ("empty signed name", a.replace("host;", "host;;"), "lowercase"),
        ("absent signed", a.replace("host;", "host;my-header;"), "'my-header' is not present"),
        ("short signature", a.replacen(&sig, &sig[1..], 1), "64 lowercase"),
        ("uppercase signature", a.replacen(&sig, &sig.to_uppercase(), 1), "64 lowercase"),
        ("non-ascii", a.replace("AKIDEXAMPLE", "AKIDÉXAMPLE"), "printable ASCII"),
        ("control", a.replace(", ", ",\n"), "printable ASCII"),
        ("too long", format!("{a}{}", " ".repeat(5000)), "too long"),
        (
            "too many signed headers",
            a.replace(
                "host;",
                &format!(
                    "{}host;",
                    (0..70).map(|i| format!("a{i:03};")).collect::<String>()
                ),
            ),
            "too many",
        ),
    ];
    for (case, value, needle) in cases {
        let r = with_authorization(&req, |_| value.clone());
        assert_incomplete(verify_at(&r, SUITE_MS), needle, case);
    }

    // A present X-Amz-Date must be signed, like every x-amz-* header.
    let unsigned_date = with_authorization(&req, |a| a.replace(";x-amz-date", ""));
    assert_eq!(
        verify_at(&unsigned_date, SUITE_MS),
        Err(SigV4Error::HeadersNotSigned(vec!["x-amz-date".into()]))
    );

    let no_date = req.without_header("x-amz-date");
    assert_incomplete(verify_at(&no_date, SUITE_MS), "'X-Amz-Date'", "no date");
    let mut bad_date = req.clone();
    bad_date.set_header("x-amz-date", "Sun, 30 Aug 2015 12:36:00 GMT");
    assert_incomplete(verify_at(&bad_date, SUITE_MS), "ISO-8601", "http date");
    let mut two = req.clone();
    two.headers.push(("Authorization".into(), a.clone()));
    assert_incomplete(
        verify_at(&two, SUITE_MS),
        "more than one",
        "two authorization",
    );
}

#[test]
fn verify_refuses_unsigned_x_amz_headers_and_content_type() {
    let req = get_vanilla();
    let mut added = req.clone();
    added.headers.push(("X-Amz-Target".into(), "Svc.Op".into()));
    added
        .headers
        .push(("Content-Type".into(), "application/x-amz-json-1.1".into()));
    assert_eq!(
        verify_at(&added, SUITE_MS),
        Err(SigV4Error::HeadersNotSigned(vec![
            "content-type".into(),
            "x-amz-target".into()
        ]))
    );
    let err = verify_at(&added, SUITE_MS).unwrap_err();
    assert_eq!(err.aws_error_type(), "IncompleteSignatureException");
    assert_eq!(
        err.aws_message(),
        "There were headers present in the request which were not signed"
    );
    // Other headers may go unsigned: the SDKs leave user-agent and x-amzn-trace-id out.
    let mut others = req.clone();
    others.headers.push(("User-Agent".into(), "sdk".into()));
    others
        .headers
        .push(("X-Amzn-Trace-Id".into(), "Root=1-abc".into()));
    assert_eq!(verify_at(&others, SUITE_MS), Ok(suite_verified()));
}

#[test]
fn verify_tolerates_whitespace_differences_between_sdks() {
    let req = get_vanilla();
    for edit in [
        |a: &str| a.replace(", ", ","),
        |a: &str| a.replace(", ", " ,\t "),
        |a: &str| a.replacen(' ', "   ", 1),
        |a: &str| format!("  {a}\t"),
    ] {
        let r = with_authorization(&req, edit);
        assert_eq!(
            verify_at(&r, SUITE_MS),
            Ok(suite_verified()),
            "{}",
            r.authorization()
        );
    }
    // Parameter order is not significant either.
    let reordered = with_authorization(&req, |a| {
        let rest = a.strip_prefix("AWS4-HMAC-SHA256 ").unwrap();
        let mut params: Vec<&str> = rest.split(", ").collect();
        params.reverse();
        format!("AWS4-HMAC-SHA256 {}", params.join(", "))
    });
    assert_eq!(verify_at(&reordered, SUITE_MS), Ok(suite_verified()));
}

#[test]
fn declared_payload_hash_must_match_the_body() {
    let c = crt_cases()
        .into_iter()
        .find(|c| c.name == "post-x-www-form-urlencoded")
        .unwrap();
    let req = c.signed_request;
    assert_eq!(verify_at(&req, SUITE_MS), Ok(suite_verified()));
    // A false declared hash is a forgery, even with the signature intact.
    let mut lied = req.clone();
    lied.set_header("x-amz-content-sha256", &"0".repeat(64));
    assert_eq!(
        verify_at(&lied, SUITE_MS),
        Err(SigV4Error::SignatureMismatch)
    );
    // A declared hash the signature does not cover is refused outright, like any unsigned
    // x-amz-* header.
    let mut unsigned = get_vanilla();
    unsigned
        .headers
        .push(("X-Amz-Content-Sha256".into(), "UNSIGNED-PAYLOAD".into()));
    assert_eq!(
        verify_at(&unsigned, SUITE_MS),
        Err(SigV4Error::HeadersNotSigned(vec![
            "x-amz-content-sha256".into()
        ]))
    );
    // Signed as UNSIGNED-PAYLOAD, the body is still what is checked here, so a request whose
    // signer skipped the payload cannot verify.
    let mut skipped = with_authorization(&get_vanilla(), |a| {
        a.replace("host;x-amz-date", "host;x-amz-content-sha256;x-amz-date")
    });
    skipped
        .headers
        .push(("X-Amz-Content-Sha256".into(), "UNSIGNED-PAYLOAD".into()));
    skipped.body = b"x".to_vec();
    assert_eq!(
        verify_at(&skipped, SUITE_MS),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn canonical_request_follows_sigv4_encoding_rules() {
    let headers = vec![
        ("Host".to_owned(), "example.amazonaws.com".to_owned()),
        ("My-Header".to_owned(), "  a \t b\r\n  c  ".to_owned()),
        ("my-header".to_owned(), "d".to_owned()),
    ];
    let parts = |path: &'static str, query: &'static str| RequestParts {
        method: "GET",
        path,
        query,
        headers: &headers,
        body: b"",
    };
    let names = vec!["host".to_owned(), "MY-HEADER".to_owned()];
    let lines = |path, query| {
        let creq = canonical_request(&parts(path, query), &names, true).unwrap();
        creq.lines().map(str::to_owned).collect::<Vec<_>>()
    };
    let l = lines("/", "");
    assert_eq!(l[3], "host:example.amazonaws.com");
    assert_eq!(
        l[4], "my-header:a b c,d",
        "folded whitespace collapses, duplicates join"
    );
    assert_eq!(l[6], "host;my-header");
    // Paths: dot segments, repeated slashes, already-encoded text is encoded again.
    assert_eq!(lines("", "")[1], "/");
    assert_eq!(lines("/a/./b/../c//d/", "")[1], "/a/c/d/");
    assert_eq!(lines("/a/b/..", "")[1], "/a");
    assert_eq!(lines("/../..", "")[1], "/");
    assert_eq!(lines("/a%20b/%2F", "")[1], "/a%2520b/%252F");
    assert_eq!(lines("/ü ~*", "")[1], "/%C3%BC%20~%2A");
    // Queries: decode, re-encode, sort by key then value; `a` and `a=` are the same.
    assert_eq!(lines("/", "b=2&a&c=&a=1")[2], "a=&a=1&b=2&c=");
    assert_eq!(lines("/", "x=%7e%41+%2b&&y=a=b")[2], "x=~A%2B%2B&y=a%3Db");
    assert_eq!(lines("/", "k=%&j=%4&i=%zz")[2], "i=%25zz&j=%254&k=%25");
    assert_eq!(
        lines("/", "%E1%88%B4=1&\u{1234}=0")[2],
        "%E1%88%B4=0&%E1%88%B4=1"
    );
    // A signed header that is not there, or a bad method, is an error, not a guess.
    let absent = vec!["host".to_owned(), "x-missing".to_owned()];
    assert!(matches!(
        canonical_request(&parts("/", ""), &absent, true),
        Err(SigV4Error::MalformedRequest(_))
    ));
    let bad_method = RequestParts {
        method: "GE T",
        ..parts("/", "")
    };
    assert!(canonical_request(&bad_method, &names, true).is_err());
}

#[test]
fn amz_dates_format_and_parse_both_ways() {
    assert_eq!(parse_amz_date(AMZ_DATE), Some(SUITE_MS));
    assert_eq!(format_amz_date(SUITE_MS), AMZ_DATE);
    assert_eq!(
        format_amz_date(SUITE_MS + 999),
        AMZ_DATE,
        "milliseconds are dropped"
    );
    assert_eq!(format_amz_date(0), "19700101T000000Z");
    assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
    assert_eq!(parse_amz_date("20000229T235959Z"), Some(951_868_799_000));
    assert_eq!(
        parse_amz_date("99991231T235959Z"),
        Some(253_402_300_799_000)
    );
    assert_eq!(format_amz_date(253_402_300_799_000), "99991231T235959Z");
    for bad in [
        "",
        "20150830T123600",
        "20150830 123600Z",
        "20150830T123600z",
        "2015-08-30T12:36:00Z",
        "20150230T123600Z",
        "21000229T000000Z",
        "20151301T000000Z",
        "20150800T000000Z",
        "20150830T240000Z",
        "20150830T236000Z",
        "20150830T123660Z",
        "19691231T235959Z",
        "+0150830T123600Z",
        "2015083\u{e9}T12360Z",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad:?}");
    }
    // Every day for 40 years round-trips.
    let mut ms = 0u64;
    while ms < 40 * 366 * 86_400_000 {
        assert_eq!(parse_amz_date(&format_amz_date(ms)), Some(ms - ms % 1000));
        ms += 86_400_000 + 1_234;
    }
    // Huge times do not panic.
    let _ = format_amz_date(u64::MAX);
}

#[test]
fn errors_carry_aws_wire_types_and_short_lowercase_display() {
    let all = [
        SigV4Error::MissingAuthenticationToken,
        SigV4Error::IncompleteSignature("x".into()),
        SigV4Error::SecurityTokenNotAccepted,
        SigV4Error::UnknownAccessKey,
        SigV4Error::WrongService {
            expected: "cognito-idp".into(),
        },
        SigV4Error::SignatureMismatch,
        SigV4Error::MalformedRequest("x".into()),
        SigV4Error::InvalidSigningInput("x"),
    ];
    for e in &all {
        let shown = e.to_string();
        assert!(
            !shown.is_empty() && shown == shown.to_lowercase(),
            "{shown}"
        );
        assert!(e.aws_error_type().ends_with("Exception"));
    }
    assert_eq!(
        all[4].aws_message(),
        "Credential should be scoped to correct service: 'cognito-idp'. "
    );
}

// ---------------------------------------------------------------------------------------
// Round trip as the Worker sees it

fn botocore_like_admin_sign_out() -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), "cognito-idp.us-east-1.amazonaws.com".into()),
            ("Content-Type".into(), "application/x-amz-json-1.1".into()),
            (
                "X-Amz-Target".into(),
                "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut".into(),
            ),
        ],
        body: br#"{"UserPoolId": "us-east-1_EXAMPLE", "Username": "alice"}"#.to_vec(),
    }
}

#[test]
fn sign_then_verify_round_trips_an_admin_user_global_sign_out_call() {
    let now = parse_amz_date("20260818T101112Z").unwrap();
    let lookup = |akid: &str| (akid == "AKIAEDGEREVOKE").then(|| "s3cr3t/KEY+x".to_owned());
    for include_sha in [false, true] {
        let mut req = botocore_like_admin_sign_out();
        let added = sign(
            &req.parts(),
            "AKIAEDGEREVOKE",
            "s3cr3t/KEY+x",
            "us-east-1",
            "cognito-idp",
            &format_amz_date(now),
            None,
            include_sha,
        )
        .unwrap();
        let authz = &added.last().unwrap().1;
        let expected_signed = if include_sha {
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target"
        } else {
            "content-type;host;x-amz-date;x-amz-target"
        };
        assert!(authz.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAEDGEREVOKE/20260818/us-east-1/cognito-idp/aws4_request, "
        ));
        assert_eq!(signed_headers_of(authz).join(";"), expected_signed);
        req.headers.extend(added);

        let expected = Verified {
            access_key_id: "AKIAEDGEREVOKE".into(),
            region: "us-east-1".into(),
            date: "20260818".into(),
            amz_date: "20260818T101112Z".into(),
        };
        for later in [0, 5 * MINUTE_MS, SKEW_MS] {
            let got = verify(&req.parts(), "cognito-idp", now + later, SKEW_MS, &lookup);
            assert_eq!(got, Ok(expected.clone()));
        }
        let wrong_service = verify(&req.parts(), "cognito-identity", now, SKEW_MS, &lookup);
        assert_error(
            wrong_service,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'cognito-identity'. ",
            "round trip",
        );
        let mut tampered = req.clone();
        tampered.body = br#"{"UserPoolId": "us-east-1_EXAMPLE", "Username": "bob"}"#.to_vec();
        let got = verify(&tampered.parts(), "cognito-idp", now, SKEW_MS, &lookup);
        assert_eq!(got, Err(SigV4Error::SignatureMismatch));
    }
}

#[test]
fn sign_refuses_inputs_it_cannot_sign_faithfully() {
    let req = botocore_like_admin_sign_out();
    let go = |akid: &str, region: &str, date: &str, token: Option<&str>, r: &HttpRequest| {
        sign(
            &r.parts(),
            akid,
            "k",
            region,
            "cognito-idp",
            date,
            token,
            false,
        )
    };
    let ok = "20260818T101112Z";
    assert!(go("AKID", "us-east-1", ok, None, &req).is_ok());
    assert!(go("AK/ID", "us-east-1", ok, None, &req).is_err());
    assert!(go("", "us-east-1", ok, None, &req).is_err());
    assert!(go("AKID", "us east", ok, None, &req).is_err());
    assert!(go("AKID", "us-east-1", "2026-08-18", None, &req).is_err());
    assert!(go("AKID", "us-east-1", ok, Some("a\nb"), &req).is_err());
    assert!(go("AKID", "us-east-1", ok, None, &req.without_header("host")).is_err());
    // Stale signing headers in the input are replaced, not signed twice.
    let mut stale = req.clone();
    stale
        .headers
        .push(("X-Amz-Date".into(), "19990101T000000Z".into()));
    stale.headers.push(("Authorization".into(), "old".into()));
    assert_eq!(
        go("AKID", "us-east-1", ok, None, &stale),
        go("AKID", "us-east-1", ok, None, &req)
    );
}

// ---------------------------------------------------------------------------------------
// No panics on hostile input

/// Knuth's MMIX LCG: deterministic, no extra crates.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Fragments that have broken parsers before: escapes cut short, separators, dot segments,
/// line breaks, multi-byte UTF-8, numbers past u64, and SigV4's own keywords.
#[rustfmt::skip]
const NASTY: &[&str] = &[
    "%", "%%", "%4", "%zz", "%E1%88", "/", "//", "/../", "/./", "..", ".", ";", ";;", ",",
    ",,", "=", "==", " ", "\t", "\r\n", "\n ", "\0", "é", "€", "😀", "\u{1234}", "\u{feff}",
    "T", "Z", "0", "9", "99999999999999999999", "18446744073709551616", "-1", "aws4_request",
    "AWS4-HMAC-SHA256", "Credential=", "SignedHeaders=", "Signature=", "host", "x-amz-date",
    "x-amz-security-token", "&", "?", "#", "+", "~",
];

fn mutate(rng: &mut Lcg, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(6) {
            0 => chars.splice(at..at, rng.pick(NASTY).chars()).for_each(drop),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            2 => chars.truncate(at),
            3 if at < chars.len() => chars[at] = rng.pick(NASTY).chars().next().unwrap_or('x'),
            4 => {
                let tail: Vec<char> = chars[at..].to_vec();
                chars.extend(tail);
            }
            _ => chars.push(rng.pick(NASTY).chars().next().unwrap_or('%')),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn verify_never_panics_on_mutated_requests() {
    let mut seeds: Vec<HttpRequest> = acceptable_signed_requests()
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let mut cognito = botocore_like_admin_sign_out();
    let added = sign(
        &cognito.parts(),
        AKID,
        SECRET,
        REGION,
        SERVICE,
        AMZ_DATE,
        None,
        true,
    )
    .unwrap();
    cognito.headers.extend(added);
    assert_eq!(verify_at(&cognito, SUITE_MS), Ok(suite_verified()));
    seeds.push(cognito);

    let times = [0, 1, SUITE_MS, u64::MAX, u64::MAX / 2, 253_402_300_799_000];
    let skews = [0, SKEW_MS, u64::MAX];
    let mut rng = Lcg(0x5EED_F00D);
    let (mut ok, mut err, mut refused_by) = (0usize, 0usize, BTreeSet::new());
    for i in 0..4000 {
        let seed = &seeds[rng.below(seeds.len())];
        let mut r = seed.clone();
        match i % 5 {
            0 => {
                let a = mutate(&mut rng, r.authorization());
                r.set_header("authorization", &a);
            }
            1 => r.path = mutate(&mut rng, &r.path),
            2 => r.query = mutate(&mut rng, &r.query),
            3 => {
                let k = rng.below(r.headers.len());
                r.headers[k].1 = mutate(&mut rng, &r.headers[k].1);
                if rng.below(4) == 0 {
                    r.headers[k].0 = mutate(&mut rng, &r.headers[k].0);
                }
            }
            _ => {
                let d = mutate(&mut rng, AMZ_DATE);
                r.set_header("x-amz-date", &d);
                let a = r
                    .authorization()
                    .replace("20150830/", &format!("{}/", mutate(&mut rng, "20150830")));
                r.set_header("authorization", &a);
            }
        }
        if rng.below(8) == 0 {
            r.method = mutate(&mut rng, &r.method);
        }
        let now = if rng.below(2) == 0 {
            SUITE_MS
        } else {
            times[rng.below(times.len())]
        };
        let skew = skews[rng.below(skews.len())];
        match verify(&r.parts(), SERVICE, now, skew, &lookup_example) {
            Ok(_) => {
                ok += 1;
                // Accepted only if the mutation left everything signed as it was: the same
                // signature over the same canonical request (a no-op mutation, an unsigned
                // header, a time still within the skew).
                let signed = signed_headers_of(seed.authorization());
                assert_eq!(
                    signature_of(r.authorization()),
                    signature_of(seed.authorization()),
                    "iteration {i}: accepted with another signature"
                );
                assert_eq!(
                    canonical_request(&r.parts(), &signed, true),
                    canonical_request(&seed.parts(), &signed, true),
                    "iteration {i}: accepted a request whose signed parts changed"
                );
            }
            Err(e) => {
                err += 1;
                // Every error renders without panicking too.
                let _ = (e.aws_error_type(), e.aws_message(), e.to_string());
                let variant = format!("{e:?}");
                let variant = variant.split(['(', ' ', '{']).next().unwrap_or_default();
                refused_by.insert(variant.to_owned());
            }
        }
        // The other entry points take the same hostile parts.
        let names: Vec<String> = r.headers.iter().map(|(n, _)| n.clone()).collect();
        let _ = canonical_request(&r.parts(), &names, i % 2 == 0);
        let _ = sign(
            &r.parts(),
            AKID,
            SECRET,
            REGION,
            SERVICE,
            AMZ_DATE,
            None,
            true,
        );
        let _ = parse_amz_date(r.header("x-amz-date").unwrap_or(""));
        let _ = format_amz_date(rng.next().wrapping_mul(rng.next()));
    }
    // The mutations reach past the first check: some still verify, and the refusals come from
    // many different checks (parsing, scope, service, key, dates, the signature itself).
    assert!(
        ok > 0,
        "no mutated request verified: the mutations never leave one intact"
    );
    assert!(
        refused_by.len() >= 6,
        "refusals came from only {refused_by:?}: the mutations stop at the first checks"
    );
    assert!(
        err > 2000,
        "mutations mostly break requests ({ok} ok, {err} err)"
    );
}
