//! Subject identifiers (RFC 9493, SSF §3) and their mapping to a pool's users.
//!
//! # Formats
//! | format | members | maps to |
//! |---|---|---|
//! | `iss_sub` | `iss`, `sub` | the `sub`, when `iss` is the pool's issuer exactly; else unresolvable |
//! | `email` | `email` | local pool: a directory lookup; external pool: the name the gate matches |
//! | `account` | `uri` (`acct:user@host`) | the (percent-decoded) `user` part, as a name |
//! | `phone_number` | `phone_number` (E.164, spaces dropped) | like `email` |
//! | `opaque` | `id` | a user id by agreement: local pool, looked up as a username or sub; external pool, the id itself |
//! | `aliases` | `identifiers` (1 to [`MAX_ALIASES`], not nested) | every member that maps |
//! | `complex` | `user`, `session`, `tenant`, others | see [`Subject::resolve`] |
//! | `did`, `uri`, `jwt_id`, `saml_assertion_id`, `ip-addresses`, unknown formats | — | unresolvable |
//!
//! A subject missing `format`, missing a member its format requires, or carrying a member its
//! format does not describe is malformed (RFC 9493 §3) and refused with `invalid_request`.
//! Legacy shapes, accepted only for the `subject` member inside an event (Okta, Google,
//! Login.gov): a complex subject without `"format": "complex"` (an object of named
//! sub-objects), and `subject_type` (`iss-sub`, `id_token_claims`, `email`, `phone`) instead
//! of `format`.

use serde_json::{Map, Value};

use super::SsfError;
use crate::config::Pool;

/// Most members of an `aliases` subject.
pub const MAX_ALIASES: usize = 16;
/// Longest member value accepted, in bytes.
pub const MAX_MEMBER_BYTES: usize = 1024;
/// Most named members of a complex subject.
pub const MAX_COMPLEX_MEMBERS: usize = 8;

/// A subject identifier, well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `account`: an `acct:` URI.
    Account {
        /// The URI as sent.
        uri: String,
        /// Its user part, percent-decoded.
        user: String,
    },
    /// `email`.
    Email(String),
    /// `iss_sub`.
    IssSub {
        /// The subject's issuer (not necessarily the SET's).
        iss: String,
        /// The subject at that issuer.
        sub: String,
    },
    /// `opaque`.
    Opaque(String),
    /// `phone_number`, spaces removed.
    Phone(String),
    /// `aliases`: identifiers of one principal.
    Aliases(Vec<Subject>),
    /// `complex`: named simple subjects describing one principal.
    Complex(Complex),
    /// A well-formed identifier that cannot name a pool user (`did`, `uri`, `jwt_id`, …) or
    /// a format this receiver does not know.
    Unmappable {
        /// The format, truncated for the log.
        format: String,
    },
}

/// The members of a complex subject this receiver understands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Complex {
    /// The `user` member.
    pub user: Option<Box<Subject>>,
    /// The `session` member.
    pub session: Option<Box<Subject>>,
    /// The `tenant` member.
    pub tenant: Option<Box<Subject>>,
    /// Names of the other members (`device`, `application`, `group`, …): no token at the edge
    /// carries them, so they act as wildcards (SSF §8.1.3.1).
    pub others: Vec<String>,
}

/// A name the pool's directory must turn into a `sub` (local pools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alias {
    /// An email address.
    Email(String),
    /// An E.164 phone number.
    Phone(String),
    /// A username, email or sub, whichever the directory finds.
    Name(String),
}

/// What a subject names in the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A user, by the id its revocation entry is keyed by.
    User(String),
    /// A user the directory must find first.
    Lookup(Alias),
    /// One session, by its `origin_jti`.
    Session(String),
}

/// The user id an external pool's entry is written under for a name (username, email, phone
/// or sub) a transmitter sent: the id the gate matches against a token's `sub` and `username`.
/// Every external-pool user id this module produces goes through here, so the pool's naming
/// rule applies in one place: the pool's canonical spelling ([`Pool::user_id`]: NFC, case
/// folded unless the pool is case sensitive), the spelling AdminUserGlobalSignOut writes and
/// the gate reads a token's `sub` and `username` in (`crate::identity`).
pub fn external_pool_user_id(pool: &Pool, name: &str) -> String {
    pool.user_id(name).as_str().to_owned()
}

impl Subject {
    /// Parses a subject identifier per RFC 9493 (`sub_id`): `format` required, no undescribed
    /// members.
    pub fn parse(value: &Value) -> Result<Self, SsfError> {
        parse(value, Nesting::Top, false)
    }

    /// Parses the legacy `subject` member of an event, which also admits a complex subject
    /// without `format` and the `subject_type` spelling.
    pub fn parse_legacy(value: &Value) -> Result<Self, SsfError> {
        parse(value, Nesting::Top, true)
    }

    /// What this subject names in `pool` (its issuer, and whether it has a directory), for an
    /// event that may be scoped to a session (`session_scoped`) or not.
    ///
    /// Complex subjects: a `tenant` must be an `opaque` id equal to the pool id, or nothing is
    /// named (another tenant's `alice@example.com` is not ours). A `session` given as `opaque`
    /// is the session's `origin_jti` (by agreement); a session-scoped event then revokes that
    /// session only. Any other `session` format cannot be matched to tokens and falls back to
    /// the user. A `user` that names nobody here makes the whole subject unresolvable.
    /// Returns an empty list when nothing maps.
    pub fn resolve(&self, pool: &Pool, session_scoped: bool) -> Result<Vec<Target>, &'static str> {
        match self {
            Self::Complex(complex) => {
                if let Some(tenant) = &complex.tenant {
                    match tenant.as_ref() {
                        Self::Opaque(id) if *id == pool.id => {}
                        _ => return Err("the subject's tenant is not this pool"),
                    }
                }
                let session = match complex.session.as_deref() {
                    Some(Self::Opaque(origin_jti)) => Some(origin_jti),
                    _ => None,
                };
                let users = match complex.user.as_deref() {
                    Some(user) => Some(user.resolve(pool, false)?),
                    None => None,
                };
                match (session, users) {
                    (Some(origin_jti), _) if session_scoped => {
                        Ok(vec![Target::Session(origin_jti.clone())])
                    }
                    (_, Some(users)) => Ok(users),
                    (Some(origin_jti), None) => Ok(vec![Target::Session(origin_jti.clone())]),
                    (None, None) => Err("the complex subject names no user or session"),
                }
            }
            Self::Aliases(members) => {
                let mut targets: Vec<Target> = Vec::new();
                for member in members {
                    for target in member.resolve(pool, false).unwrap_or_default() {
                        if !targets.contains(&target) {
                            targets.push(target);
                        }
                    }
                }
                if targets.is_empty() {
                    Err("no alias names a user of this pool")
                } else {
                    Ok(targets)
                }
            }
            simple => simple.resolve_simple(pool).map(|target| vec![target]),
        }
    }

    fn resolve_simple(&self, pool: &Pool) -> Result<Target, &'static str> {
        let local = pool.local.is_some();
        let name = |alias: Alias, name: &str| {
            if local {
                Target::Lookup(alias)
            } else {
                Target::User(external_pool_user_id(pool, name))
            }
        };
        match self {
            Self::IssSub { iss, sub } if *iss == pool.issuer => Ok(if local {
                Target::User(sub.clone())
            } else {
                Target::User(external_pool_user_id(pool, sub))
            }),
            Self::IssSub { .. } => Err("the subject's issuer is not the pool's issuer"),
            Self::Email(email) => Ok(name(Alias::Email(email.clone()), email)),
            Self::Phone(phone) => Ok(name(Alias::Phone(phone.clone()), phone)),
            Self::Account { user, .. } => Ok(name(Alias::Name(user.clone()), user)),
            Self::Opaque(id) => Ok(name(Alias::Name(id.clone()), id)),
            Self::Unmappable { .. } => Err("the subject's format cannot name a pool user"),
            Self::Aliases(_) | Self::Complex(_) => Err("nested subject"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// A top-level subject: any format.
    Top,
    /// A member of `complex`: no `complex` inside (an `aliases` member is fine).
    InComplex,
    /// A member of `aliases`: no `aliases` or `complex` inside.
    InAliases,
}

const MALFORMED: SsfError = SsfError::InvalidRequest("malformed subject identifier");

fn parse(value: &Value, nesting: Nesting, legacy: bool) -> Result<Subject, SsfError> {
    let map = value.as_object().ok_or(MALFORMED)?;
    let format = match (map.get("format"), map.get("subject_type")) {
        (Some(Value::String(format)), None) => format.as_str(),
        (None, Some(Value::String(kind))) if legacy => return parse_subject_type(map, kind),
        (None, None) if legacy && nesting == Nesting::Top => {
            // Okta: `{"user": {...}}`, a complex subject without its format.
            return parse_complex(map, None);
        }
        _ => return Err(MALFORMED),
    };
    match format {
        "account" => {
            let [uri] = only(map, ["uri"])?;
            let user = acct_user(uri).ok_or(MALFORMED)?;
            Ok(Subject::Account {
                uri: uri.to_owned(),
                user,
            })
        }
        "email" => {
            let [email] = only(map, ["email"])?;
            if !is_email(email) {
                return Err(MALFORMED);
            }
            Ok(Subject::Email(email.to_owned()))
        }
        "iss_sub" => {
            let [iss, sub] = only(map, ["iss", "sub"])?;
            Ok(Subject::IssSub {
                iss: iss.to_owned(),
                sub: sub.to_owned(),
            })
        }
        "opaque" => {
            let [id] = only(map, ["id"])?;
            Ok(Subject::Opaque(id.to_owned()))
        }
        "phone_number" => {
            let [phone] = only(map, ["phone_number"])?;
            let phone = e164(phone).ok_or(MALFORMED)?;
            Ok(Subject::Phone(phone))
        }
        "did" => unmappable(map, ["url"], format),
        "uri" => unmappable(map, ["uri"], format),
        "jwt_id" => unmappable(map, ["iss", "jti"], format),
        "saml_assertion_id" => unmappable(map, ["issuer", "assertion_id"], format),
        "ip-addresses" => {
            let ok = map.len() == 2
                && map
                    .get("ip-addresses")
                    .and_then(Value::as_array)
                    .is_some_and(|list| !list.is_empty() && list.iter().all(Value::is_string));
            if !ok {
                return Err(MALFORMED);
            }
            Ok(Subject::Unmappable {
                format: format.to_owned(),
            })
        }
        "aliases" => {
            if nesting == Nesting::InAliases {
                return Err(MALFORMED);
            }
            let list = match (map.len(), map.get("identifiers")) {
                (2, Some(Value::Array(list))) if (1..=MAX_ALIASES).contains(&list.len()) => list,
                _ => return Err(MALFORMED),
            };
            list.iter()
                .map(|member| parse(member, Nesting::InAliases, false))
                .collect::<Result<Vec<_>, _>>()
                .map(Subject::Aliases)
        }
        "complex" => {
            if nesting != Nesting::Top {
                return Err(MALFORMED);
            }
            parse_complex(map, Some("format"))
        }
        // A format registered later, or private: well formed as far as we can tell.
        other => {
            if other.is_empty() {
                return Err(MALFORMED);
            }
            Ok(Subject::Unmappable {
                format: other.chars().take(64).collect(),
            })
        }
    }
}

/// Legacy RISC `subject_type` (Google, Login.gov). Unknown members are tolerated here, as those
/// senders add some (`id_token_claims` may carry `email`).
fn parse_subject_type(map: &Map<String, Value>, kind: &str) -> Result<Subject, SsfError> {
    let member = |name: &str| match map.get(name) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_MEMBER_BYTES => Ok(s.clone()),
        _ => Err(MALFORMED),
    };
    match kind {
        "iss-sub" | "id_token_claims" => Ok(Subject::IssSub {
            iss: member("iss")?,
            sub: member("sub")?,
        }),
        "email" => {
            let email = member("email")?;
            if !is_email(&email) {
                return Err(MALFORMED);
            }
            Ok(Subject::Email(email))
        }
        "phone" => e164(&member("phone")?).map(Subject::Phone).ok_or(MALFORMED),
        other => Ok(Subject::Unmappable {
            format: other.chars().take(64).collect(),
        }),
    }
}

fn parse_complex(map: &Map<String, Value>, format_key: Option<&str>) -> Result<Subject, SsfError> {
    let mut complex = Complex::default();
    let mut named = 0;
    for (name, member) in map {
        if Some(name.as_str()) == format_key {
            continue;
        }
        named += 1;
        if named > MAX_COMPLEX_MEMBERS || !member.is_object() {
            return Err(MALFORMED);
        }
        // Okta's members carry `format`; so must every member (they are simple identifiers).
        let parsed = Box::new(parse(member, Nesting::InComplex, false)?);
        match name.as_str() {
            "user" => complex.user = Some(parsed),
            "session" => complex.session = Some(parsed),
            "tenant" => complex.tenant = Some(parsed),
            other => complex.others.push(other.chars().take(64).collect()),
        }
    }
    if named == 0 {
        return Err(MALFORMED);
    }
    Ok(Subject::Complex(complex))
}

/// The members `names`, each a non-empty string of at most [`MAX_MEMBER_BYTES`], and nothing
/// else but `format`.
fn only<'a, const N: usize>(
    map: &'a Map<String, Value>,
    names: [&str; N],
) -> Result<[&'a str; N], SsfError> {
    if map.len() != N + 1 {
        return Err(MALFORMED);
    }
    let mut values = [""; N];
    for (slot, name) in values.iter_mut().zip(names) {
        *slot = match map.get(name) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_MEMBER_BYTES => s.as_str(),
            _ => return Err(MALFORMED),
        };
    }
    Ok(values)
}

fn unmappable<const N: usize>(
    map: &Map<String, Value>,
    names: [&str; N],
    format: &str,
) -> Result<Subject, SsfError> {
    only(map, names)?;
    Ok(Subject::Unmappable {
        format: format.to_owned(),
    })
}

/// An RFC 5322 addr-spec, loosely: one `@` between a non-empty local part and a domain, no
/// whitespace or control characters. The directory, not this check, decides who it names.
fn is_email(email: &str) -> bool {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// E.164 after dropping spaces (SSF's examples write `+1 206 555 0123`): `+`, a non-zero digit,
/// then up to 14 more digits.
fn e164(phone: &str) -> Option<String> {
    let compact: String = phone.chars().filter(|c| *c != ' ').collect();
    let digits = compact.strip_prefix('+')?;
    let valid = (1..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then_some(compact)
}

/// The user part of `acct:user@host` (RFC 7565), percent-decoded; `None` when the URI is not
/// an `acct:` URI with both parts, or its escapes are not valid UTF-8.
fn acct_user(uri: &str) -> Option<String> {
    let scheme = uri.get(..5)?;
    if !scheme.eq_ignore_ascii_case("acct:") {
        return None;
    }
    let (user, host) = uri.get(5..)?.rsplit_once('@')?;
    if user.is_empty() || host.is_empty() {
        return None;
    }
    let bytes = user.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = user.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(byte);
            i += 1;
        }
    }
    let user = String::from_utf8(decoded).ok()?;
    (!user.chars().any(char::is_control)).then_some(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    const POOL: &str = "us-east-1_AbC123";
    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123";

    fn pool(local: bool) -> Pool {
        let mut p = json!({"id": POOL, "allow_any_client": true,
            "jwks": {"keys": [{"kty": "oct", "kid": "k", "alg": "HS256",
                               "k": "ZXh0ZXJuYWwtcG9vbC1oczI1Ni1rZXktMzItYnl0ZXM"}]},
            "algorithms": ["HS256"]});
        let mut vars = json!({});
        if local {
            p = json!({"id": POOL, "issuer": ISSUER, "local": {}, "clients": [{"id": "c"}]});
            vars["SIGNING_KEYS"] = crate::signing::test_keys::signing_keys_json();
        }
        vars["POOLS"] = json!([p]);
        let config = Config::from_env(vars.as_object().unwrap()).unwrap();
        config.pools[0].clone()
    }

    fn resolve(subject: Value, local: bool, scoped: bool) -> Result<Vec<Target>, &'static str> {
        Subject::parse(&subject)
            .unwrap()
            .resolve(&pool(local), scoped)
    }

    #[test]
    fn iss_sub_of_the_pool_issuer_names_the_sub_in_either_kind_of_pool() {
        let subject = json!({"format": "iss_sub", "iss": ISSUER, "sub": "s-1"});
        for local in [true, false] {
            assert_eq!(
                resolve(subject.clone(), local, false),
                Ok(vec![Target::User("s-1".into())])
            );
        }
    }

    #[test]
    fn iss_sub_of_another_issuer_or_a_look_alike_names_nobody() {
        for iss in [
            format!("{ISSUER}/"),
            ISSUER.to_uppercase(),
            "https://idp.example".into(),
        ] {
            let subject = json!({"format": "iss_sub", "iss": iss, "sub": "s-1"});
            assert!(resolve(subject, false, false).is_err(), "{iss}");
        }
    }

    #[test]
    fn email_is_a_directory_lookup_in_a_local_pool_and_the_gate_name_in_an_external_one() {
        let subject = json!({"format": "email", "email": "Alice@Example.com"});
        assert_eq!(
            resolve(subject.clone(), true, false),
            Ok(vec![Target::Lookup(Alias::Email(
                "Alice@Example.com".into()
            ))])
        );
        // In the external pool's spelling (case folded by default), as the gate reads names.
        assert_eq!(
            resolve(subject, false, false),
            Ok(vec![Target::User("alice@example.com".into())])
        );
    }

    #[test]
    fn account_uris_name_their_decoded_user_part() {
        let subject = json!({"format": "account", "uri": "acct:al%69ce@example.com"});
        assert_eq!(
            resolve(subject, false, false),
            Ok(vec![Target::User("alice".into())])
        );
        for bad in [
            "mailto:alice@example.com",
            "acct:@example.com",
            "acct:alice",
            "acct:a%zz@h",
            "acct:%ff@h",
        ] {
            assert_eq!(
                Subject::parse(&json!({"format": "account", "uri": bad})),
                Err(MALFORMED),
                "{bad}"
            );
        }
    }

    #[test]
    fn phone_numbers_lose_their_spaces_and_must_be_e164() {
        let subject = json!({"format": "phone_number", "phone_number": "+1 206 555 0100"});
        assert_eq!(
            resolve(subject, true, false),
            Ok(vec![Target::Lookup(Alias::Phone("+12065550100".into()))])
        );
        for bad in [
            "12065550100",
            "+1-206-555-0100",
            "+0123",
            "+",
            "+1234567890123456",
        ] {
            assert_eq!(
                Subject::parse(&json!({"format": "phone_number", "phone_number": bad})),
                Err(MALFORMED),
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_empty_extra_or_mistyped_members_are_malformed() {
        for bad in [
            json!({"format": "iss_sub", "iss": ISSUER}),
            json!({"format": "iss_sub", "iss": ISSUER, "sub": ""}),
            json!({"format": "iss_sub", "iss": ISSUER, "sub": 7}),
            json!({"format": "iss_sub", "iss": ISSUER, "sub": "s", "email": "a@b"}),
            json!({"format": "email", "email": "no-at-sign"}),
            json!({"format": "email", "email": "a b@example.com"}),
            json!({"format": "opaque", "id": "x".repeat(MAX_MEMBER_BYTES + 1)}),
            json!({"iss": ISSUER, "sub": "s"}),
            json!({"format": "", "id": "x"}),
            json!({"format": 1, "id": "x"}),
            json!("iss_sub"),
        ] {
            assert_eq!(Subject::parse(&bad), Err(MALFORMED), "{bad}");
        }
    }

    #[test]
    fn unknown_and_unmappable_formats_are_well_formed_but_name_nobody() {
        for subject in [
            json!({"format": "did", "url": "did:example:123"}),
            json!({"format": "jwt_id", "iss": ISSUER, "jti": "j"}),
            json!({"format": "ip-addresses", "ip-addresses": ["10.0.0.1"]}),
            json!({"format": "x-private", "whatever": 1}),
        ] {
            assert!(
                matches!(Subject::parse(&subject), Ok(Subject::Unmappable { .. })),
                "{subject}"
            );
            assert!(resolve(subject, false, false).is_err());
        }
    }

    #[test]
    fn a_complex_subject_with_an_opaque_session_revokes_only_that_session_when_scoped() {
        let subject = json!({"format": "complex",
            "user": {"format": "iss_sub", "iss": ISSUER, "sub": "s-1"},
            "session": {"format": "opaque", "id": "origin-1"},
            "tenant": {"format": "opaque", "id": POOL}});
        assert_eq!(
            resolve(subject.clone(), true, true),
            Ok(vec![Target::Session("origin-1".into())])
        );
        // An account-wide event revokes the user even when a session is named.
        assert_eq!(
            resolve(subject, true, false),
            Ok(vec![Target::User("s-1".into())])
        );
    }

    #[test]
    fn a_session_that_cannot_be_matched_to_tokens_falls_back_to_the_user() {
        let subject = json!({"format": "complex",
            "user": {"format": "iss_sub", "iss": ISSUER, "sub": "s-1"},
            "session": {"format": "uri", "uri": "https://idp.example/s/1"},
            "device": {"format": "opaque", "id": "d-1"}});
        assert_eq!(
            resolve(subject, true, true),
            Ok(vec![Target::User("s-1".into())])
        );
    }

    #[test]
    fn a_complex_subject_for_another_tenant_or_a_foreign_user_names_nobody() {
        let other_tenant = json!({"format": "complex",
            "user": {"format": "email", "email": "alice@example.com"},
            "tenant": {"format": "opaque", "id": "us-east-1_Other9"}});
        assert!(resolve(other_tenant, true, false).is_err());
        let foreign_user = json!({"format": "complex",
            "user": {"format": "iss_sub", "iss": "https://idp.example", "sub": "s-1"},
            "session": {"format": "opaque", "id": "origin-1"}});
        assert!(resolve(foreign_user, true, true).is_err());
    }

    #[test]
    fn nested_complex_or_aliases_and_empty_complex_are_malformed() {
        let simple = json!({"format": "opaque", "id": "x"});
        for bad in [
            json!({"format": "complex"}),
            json!({"format": "complex", "user": {"format": "complex", "user": simple}}),
            json!({"format": "aliases", "identifiers": [{"format": "aliases", "identifiers": [simple]}]}),
            json!({"format": "aliases", "identifiers": []}),
            json!({"format": "aliases", "identifiers": vec![simple.clone(); MAX_ALIASES + 1]}),
            json!({"format": "complex", "user": "alice"}),
        ] {
            assert_eq!(Subject::parse(&bad), Err(MALFORMED), "{bad}");
        }
    }

    #[test]
    fn a_complex_user_given_as_aliases_resolves_through_them() {
        let subject = json!({"format": "complex", "user": {"format": "aliases", "identifiers": [
            {"format": "email", "email": "alice@example.com"}]}});
        assert_eq!(
            resolve(subject, true, true),
            Ok(vec![Target::Lookup(Alias::Email(
                "alice@example.com".into()
            ))])
        );
    }

    #[test]
    fn aliases_name_every_member_that_maps_once() {
        let subject = json!({"format": "aliases", "identifiers": [
            {"format": "iss_sub", "iss": "https://idp.example", "sub": "x"},
            {"format": "iss_sub", "iss": ISSUER, "sub": "s-1"},
            {"format": "opaque", "id": "s-1"},
            {"format": "email", "email": "alice@example.com"}]});
        assert_eq!(
            resolve(subject, false, false),
            Ok(vec![
                Target::User("s-1".into()),
                Target::User("alice@example.com".into())
            ])
        );
    }

    #[test]
    fn legacy_shapes_are_accepted_only_where_legacy_is_allowed() {
        let okta = json!({"user": {"format": "iss_sub", "iss": ISSUER, "sub": "s-1"}});
        let google = json!({"subject_type": "iss-sub", "iss": ISSUER, "sub": "s-1"});
        for legacy in [okta, google] {
            assert_eq!(Subject::parse(&legacy), Err(MALFORMED));
            let parsed = Subject::parse_legacy(&legacy).unwrap();
            assert_eq!(
                parsed.resolve(&pool(false), false),
                Ok(vec![Target::User("s-1".into())])
            );
        }
    }
}
