//! Cognito's request-validation errors, reproduced.
//!
//! Cognito runs on Coral, which checks every input member against the model's constraints before
//! the operation runs and answers `InvalidParameterException` with a message such as
//! `1 validation error detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: Member
//! must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+`. boto3 only checks `required`
//! and `min` client-side (never `max`, `pattern` or `enum`), so the worker must produce these.
//!
//! Constraints are copied from botocore 1.44.5, `botocore/data/cognito-idp/2016-04-18/service-2.json`.
//! Handlers check members in model order. Real Cognito's order is not stable (the same member's
//! length and pattern violations, and SignUp's `password` and `username`, have been seen in
//! either order), so model order is a deterministic choice, not a copy. The members are:
//!
//! | Operation | Members (model order; * = required) |
//! |---|---|
//! | AdminUserGlobalSignOut, AdminGetUser, AdminDisableUser, AdminEnableUser, AdminDeleteUser | `userPoolId`* [`USER_POOL_ID`], `username`* [`USERNAME`] |
//! | GlobalSignOut, GetUser | `accessToken`* [`TOKEN_MODEL`] |
//! | RevokeToken | `token`* [`TOKEN_MODEL`], `clientId`* [`CLIENT_ID`], `clientSecret` [`CLIENT_SECRET`], `revokeAssociatedSessions` [`REVOKE_ASSOCIATED_SESSIONS`] |
//! | InitiateAuth | `authFlow`* [`AUTH_FLOW`], `authParameters` [`AUTH_PARAMETERS`], `clientMetadata` [`CLIENT_METADATA`], `clientId`* [`CLIENT_ID`] (real Cognito echoes it here: see [`INITIATE_AUTH_CLIENT_ID`]), `analyticsMetadata.analyticsEndpointId` [`STRING`], `userContextData.{ipAddress,encodedData}` [`STRING`]`.redacted()`, `session` [`SESSION`] |
//! | RespondToAuthChallenge | `clientId`* [`CLIENT_ID`], `challengeName`* [`CHALLENGE_NAME`], `session` [`SESSION`], `challengeResponses` [`CHALLENGE_RESPONSES`], `analyticsMetadata`, `userContextData` (as above), `clientMetadata` [`CLIENT_METADATA`] |
//! | AdminCreateUser | `userPoolId`*, `username`*, `userAttributes` [`Violations::attributes`], `validationData` [`Violations::attributes`], `temporaryPassword` [`PASSWORD`], `forceAliasCreation` (boolean), `messageAction` [`MESSAGE_ACTION`], `desiredDeliveryMediums` [`DESIRED_DELIVERY_MEDIUMS`], `clientMetadata` [`CLIENT_METADATA`] |
//! | AdminSetUserPassword | `userPoolId`*, `username`*, `password`* [`PASSWORD`], `permanent` (boolean) |
//! | AdminConfirmSignUp, AdminGetConfirmationCodes | `userPoolId`*, `username`* (and `clientMetadata`) |
//! | GetTokensFromRefreshToken | `refreshToken`* [`TOKEN_MODEL`], `clientId`*, `clientSecret` [`CLIENT_SECRET`], `clientMetadata` |
//! | SignUp | `clientId`*, `secretHash` [`SECRET_HASH`], `username`*, `password` [`PASSWORD`], `userAttributes`, `validationData`, `clientMetadata` |
//! | ConfirmSignUp | `clientId`*, `secretHash`, `username`*, `confirmationCode`* [`CONFIRMATION_CODE`], `clientMetadata`, `session` |
//! | ResendConfirmationCode, ForgotPassword | `clientId`*, `secretHash`, `username`*, `clientMetadata` |
//! | ConfirmForgotPassword | `clientId`*, `secretHash`, `username`*, `confirmationCode`*, `password`*, `clientMetadata` |
//! | ChangePassword | `previousPassword`* [`PASSWORD`], `proposedPassword`*, `accessToken`* |
//! | UpdateUserAttributes | `userAttributes`*, `accessToken`*, `clientMetadata` |
//! | GetUserAttributeVerificationCode | `accessToken`*, `attributeName`* [`ATTRIBUTE_NAME`], `clientMetadata` |
//! | VerifyUserAttribute | `accessToken`*, `attributeName`*, `code`* [`CONFIRMATION_CODE`] |
//! | DeleteUser | `accessToken`* |
//!
//! Booleans (`permanent`, `forceAliasCreation`) carry no constraint in the model, and no list or
//! map among these inputs has a size limit, so only strings, string lists, maps and the
//! attribute list need checks. A wrong JSON type is a `SerializationException`, not handled here.
//!
//! Nothing here may panic: a panic traps the wasm instance.

use crate::unicode;

/// A `pattern` constraint from the model: its original text and a whole-value matcher.
///
/// Each pattern is a Java regex; the matchers are plain character predicates with Java's
/// semantics (`\w` and `\s` are ASCII-only there), not a regex engine, to keep the wasm small.
/// The Unicode classes of the username and attribute-name patterns are `crate::unicode`'s (the
/// JS engine's in a Worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `[\w-]+_[0-9a-zA-Z]+` (UserPoolIdType).
    UserPoolId,
    /// `[\w+]+` (ClientIdType, ClientSecretType).
    ClientId,
    /// `[\w+=/]+` (SecretHashType).
    SecretHash,
    /// `[A-Za-z0-9-_=.]+` (TokenModelType); the `-` after `0-9` is a literal hyphen in Java.
    Token,
    /// `[\S]+` (PasswordType); Java's `\s` is `[ \t\n\x0B\f\r]`, so U+00A0 and friends match `\S`.
    NonWhitespace,
    /// `[\p{L}\p{M}\p{S}\p{N}\p{P}]+` (UsernameType).
    Username,
    /// `[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+` (AttributeNameType).
    AttributeName,
}

impl Pattern {
    /// The pattern exactly as the model writes it (JSON-unescaped); Coral prints this text.
    pub const fn source(self) -> &'static str {
        match self {
            Pattern::UserPoolId => r"[\w-]+_[0-9a-zA-Z]+",
            Pattern::ClientId => r"[\w+]+",
            Pattern::SecretHash => r"[\w+=/]+",
            Pattern::Token => "[A-Za-z0-9-_=.]+",
            Pattern::NonWhitespace => r"[\S]+",
            Pattern::Username => r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+",
            Pattern::AttributeName => r"[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+",
        }
    }

    /// Whether the whole of `value` matches (Coral anchors model patterns at both ends).
    pub fn is_match(self, value: &str) -> bool {
        if value.is_empty() {
            // Every model pattern here ends in `+`, so the empty string never matches.
            return false;
        }
        match self {
            Pattern::UserPoolId => user_pool_id_matches(value),
            Pattern::ClientId => value.chars().all(|c| is_java_word(c) || c == '+'),
            Pattern::SecretHash => value
                .chars()
                .all(|c| is_java_word(c) || matches!(c, '+' | '=' | '/')),
            Pattern::Token => value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.')),
            Pattern::NonWhitespace => value.chars().all(|c| !is_java_space(c)),
            Pattern::Username => unicode::all_lmsnp(value, false),
            Pattern::AttributeName => unicode::all_lmsnp(value, true),
        }
    }
}

/// Java's `\w` without UNICODE_CHARACTER_CLASS: `[a-zA-Z_0-9]`.
fn is_java_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Java's `\s` without UNICODE_CHARACTER_CLASS: `[ \t\n\x0B\f\r]` (Rust's ASCII set lacks \x0B).
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// `[\w-]+_[0-9a-zA-Z]+` as a whole match. The suffix cannot hold `_` or `-`, so the separator
/// is necessarily the last `_`; everything before it only has to be `[\w-]`.
fn user_pool_id_matches(value: &str) -> bool {
    if !value.chars().all(|c| is_java_word(c) || c == '-') {
        return false;
    }
    match value.rsplit_once('_') {
        Some((prefix, suffix)) => {
            !prefix.is_empty()
                && !suffix.is_empty()
                && suffix.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// A string member's constraints, taken from the Cognito model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringShape {
    /// Smithy `length.min`, counted in Unicode scalar values.
    pub min: Option<usize>,
    /// Smithy `length.max`, counted in Unicode scalar values.
    pub max: Option<usize>,
    /// Smithy `pattern`, matched against the whole value.
    pub pattern: Option<Pattern>,
    /// Smithy `sensitive`: Coral then prints `Value at '<member>'` without the value.
    pub sensitive: bool,
    /// Smithy `enum` values, in model order.
    pub enum_values: Option<&'static [&'static str]>,
}

impl StringShape {
    /// Same constraints, but the value is echoed in messages.
    ///
    /// For members real Cognito is seen to echo although the model marks them sensitive;
    /// see [`INITIATE_AUTH_CLIENT_ID`].
    pub const fn echoed(self) -> Self {
        StringShape {
            sensitive: false,
            ..self
        }
    }

    /// Same constraints, but the value is never echoed.
    ///
    /// For string members nested in a sensitive structure (`userContextData.*`), whose own shape
    /// (`StringType`) is not marked sensitive. Unverified against real Cognito.
    pub const fn redacted(self) -> Self {
        StringShape {
            sensitive: true,
            ..self
        }
    }

    /// Whether `value` breaks any of the constraints.
    fn fails(&self, value: &str) -> bool {
        self.length_violation(value).is_some()
            || self.pattern.is_some_and(|p| !p.is_match(value))
            || self.enum_values.is_some_and(|e| !e.contains(&value))
    }

    /// The failed length constraint, if any. Counting stops early once `max` is passed.
    fn length_violation(&self, value: &str) -> Option<String> {
        if self.min.is_none() && self.max.is_none() {
            return None;
        }
        let limit = self.max.map_or(usize::MAX, |m| m.saturating_add(1));
        let len = value.chars().take(limit).count();
        match (self.min, self.max) {
            (_, Some(max)) if len > max => Some(max_constraint(max)),
            (Some(min), _) if len < min => Some(min_constraint(min)),
            _ => None,
        }
    }

    /// Every constraint of the shape, in the bracketed form Coral uses for list members and map
    /// keys/values: `[max, min, pattern, enum]`, whether or not each one failed.
    fn describe_all(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(max) = self.max {
            parts.push(max_constraint(max));
        }
        if let Some(min) = self.min {
            parts.push(min_constraint(min));
        }
        if let Some(p) = self.pattern {
            parts.push(pattern_constraint(p));
        }
        if let Some(e) = self.enum_values {
            parts.push(enum_constraint(e));
        }
        bracketed(parts.iter().map(String::as_str))
    }
}

/// A list-of-strings member's constraints (the lists here have no size limit in the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListShape {
    /// The shape every element must satisfy.
    pub member: StringShape,
    /// Smithy `sensitive` on the list shape itself.
    pub sensitive: bool,
}

/// A string-to-string map member's constraints (the maps here have no size limit in the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapShape {
    /// The shape every key must satisfy.
    pub key: StringShape,
    /// The shape every value must satisfy.
    pub value: StringShape,
    /// Smithy `sensitive` on the map shape: the map is then never echoed.
    pub sensitive: bool,
}

const NO_CONSTRAINTS: StringShape = StringShape {
    min: None,
    max: None,
    pattern: None,
    sensitive: false,
    enum_values: None,
};

/// `UserPoolIdType`: 1..=55, `[\w-]+_[0-9a-zA-Z]+`.
pub const USER_POOL_ID: StringShape = StringShape {
    min: Some(1),
    max: Some(55),
    pattern: Some(Pattern::UserPoolId),
    ..NO_CONSTRAINTS
};

/// `UsernameType`: 1..=128, `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`, sensitive.
pub const USERNAME: StringShape = StringShape {
    min: Some(1),
    max: Some(128),
    pattern: Some(Pattern::Username),
    sensitive: true,
    enum_values: None,
};

/// `TokenModelType`: no length limit, `[A-Za-z0-9-_=.]+`, sensitive.
pub const TOKEN_MODEL: StringShape = StringShape {
    pattern: Some(Pattern::Token),
    sensitive: true,
    ..NO_CONSTRAINTS
};

/// `ClientIdType`: 1..=128, `[\w+]+`, sensitive.
pub const CLIENT_ID: StringShape = StringShape {
    min: Some(1),
    max: Some(128),
    pattern: Some(Pattern::ClientId),
    sensitive: true,
    enum_values: None,
};

/// `InitiateAuth.ClientId`: [`CLIENT_ID`] with the value echoed.
///
/// The model marks `ClientIdType` sensitive, yet real InitiateAuth responses echo it:
/// `Value 'ap-northeast-1_xxxxxxxxx' at 'clientId'` (boto/boto3#3581, 2023),
/// `Value '' at 'clientId'` and `Value null at 'clientId'` (public app notes, 2025).
/// ConfirmForgotPassword was seen *not* echoing it, so Coral's sensitivity is per operation.
/// Use this only where such an observation exists.
pub const INITIATE_AUTH_CLIENT_ID: StringShape = CLIENT_ID.echoed();

/// `ClientSecretType`: 24..=64, `[\w+]+`, sensitive.
pub const CLIENT_SECRET: StringShape = StringShape {
    min: Some(24),
    max: Some(64),
    pattern: Some(Pattern::ClientId),
    sensitive: true,
    enum_values: None,
};

/// `SecretHashType`: 1..=128, `[\w+=/]+`, sensitive. (Used by SignUp, ForgotPassword & co.;
/// InitiateAuth carries SECRET_HASH inside `authParameters`, which only has map constraints.)
pub const SECRET_HASH: StringShape = StringShape {
    min: Some(1),
    max: Some(128),
    pattern: Some(Pattern::SecretHash),
    sensitive: true,
    enum_values: None,
};

/// `PasswordType`: no minimum, max 256, `[\S]+`, sensitive.
pub const PASSWORD: StringShape = StringShape {
    max: Some(256),
    pattern: Some(Pattern::NonWhitespace),
    sensitive: true,
    ..NO_CONSTRAINTS
};

/// `ConfirmationCodeType`: 1..=2048, `[\S]+`.
pub const CONFIRMATION_CODE: StringShape = StringShape {
    min: Some(1),
    max: Some(2048),
    pattern: Some(Pattern::NonWhitespace),
    ..NO_CONSTRAINTS
};

/// `SessionType`: 20..=4096, no pattern, sensitive.
pub const SESSION: StringShape = StringShape {
    min: Some(20),
    max: Some(4096),
    sensitive: true,
    ..NO_CONSTRAINTS
};

/// `StringType`: 0..=131072 (map keys/values, `analyticsMetadata.analyticsEndpointId`,
/// `userContextData.*` — use [`StringShape::redacted`] there, the structure is sensitive).
pub const STRING: StringShape = StringShape {
    min: Some(0),
    max: Some(131_072),
    ..NO_CONSTRAINTS
};

/// `AttributeNameType`: 1..=32, `[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+`.
pub const ATTRIBUTE_NAME: StringShape = StringShape {
    min: Some(1),
    max: Some(32),
    pattern: Some(Pattern::AttributeName),
    ..NO_CONSTRAINTS
};

/// `AttributeValueType`: no minimum, max 2048, sensitive.
pub const ATTRIBUTE_VALUE: StringShape = StringShape {
    max: Some(2048),
    sensitive: true,
    ..NO_CONSTRAINTS
};

/// `AuthFlowType` enum.
pub const AUTH_FLOW: StringShape = StringShape {
    enum_values: Some(&[
        "USER_SRP_AUTH",
        "REFRESH_TOKEN_AUTH",
        "REFRESH_TOKEN",
        "CUSTOM_AUTH",
        "ADMIN_NO_SRP_AUTH",
        "USER_PASSWORD_AUTH",
        "ADMIN_USER_PASSWORD_AUTH",
        "USER_AUTH",
    ]),
    ..NO_CONSTRAINTS
};

/// `ChallengeNameType` enum.
pub const CHALLENGE_NAME: StringShape = StringShape {
    enum_values: Some(&[
        "SMS_MFA",
        "EMAIL_OTP",
        "SOFTWARE_TOKEN_MFA",
        "SELECT_MFA_TYPE",
        "MFA_SETUP",
        "PASSWORD_VERIFIER",
        "CUSTOM_CHALLENGE",
        "SELECT_CHALLENGE",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
        "ADMIN_NO_SRP_AUTH",
        "NEW_PASSWORD_REQUIRED",
        "SMS_OTP",
        "PASSWORD",
        "WEB_AUTHN",
        "PASSWORD_SRP",
    ]),
    ..NO_CONSTRAINTS
};

/// `MessageActionType` enum.
pub const MESSAGE_ACTION: StringShape = StringShape {
    enum_values: Some(&["RESEND", "SUPPRESS"]),
    ..NO_CONSTRAINTS
};

/// `DeliveryMediumType` enum (elements of `desiredDeliveryMediums`).
pub const DELIVERY_MEDIUM: StringShape = StringShape {
    enum_values: Some(&["SMS", "EMAIL"]),
    ..NO_CONSTRAINTS
};

/// `RevokeAssociatedSessionsType` enum (RevokeToken).
pub const REVOKE_ASSOCIATED_SESSIONS: StringShape = StringShape {
    enum_values: Some(&["NONE", "LINKED"]),
    ..NO_CONSTRAINTS
};

/// `DeliveryMediumListType`: list of [`DELIVERY_MEDIUM`], no size limit.
pub const DESIRED_DELIVERY_MEDIUMS: ListShape = ListShape {
    member: DELIVERY_MEDIUM,
    sensitive: false,
};

/// `AuthParametersType`: [`STRING`] keys and values, sensitive.
pub const AUTH_PARAMETERS: MapShape = MapShape {
    key: STRING,
    value: STRING,
    sensitive: true,
};

/// `ChallengeResponsesType`: [`STRING`] keys and values, sensitive.
pub const CHALLENGE_RESPONSES: MapShape = MapShape {
    key: STRING,
    value: STRING,
    sensitive: true,
};

/// `ClientMetadataType`: [`STRING`] keys and values, not sensitive.
pub const CLIENT_METADATA: MapShape = MapShape {
    key: STRING,
    value: STRING,
    sensitive: false,
};

fn max_constraint(max: usize) -> String {
    format!("Member must have length less than or equal to {max}")
}

fn min_constraint(min: usize) -> String {
    format!("Member must have length greater than or equal to {min}")
}

fn pattern_constraint(p: Pattern) -> String {
    format!(
        "Member must satisfy regular expression pattern: {}",
        p.source()
    )
}

/// Coral prints the Java set: `[A, B, C]`.
fn enum_constraint(values: &[&str]) -> String {
    format!(
        "Member must satisfy enum value set: {}",
        bracketed(values.iter().copied())
    )
}

/// Java's `AbstractCollection.toString`: `[a, b, c]`.
fn bracketed<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// `Value '<v>' at '<m>'`, `Value null at '<m>'`, or for sensitive members `Value at '<m>'`
/// (null included: a null sensitive access token was observed as `Value at 'accessToken'`).
fn value_at(member: &str, value: Option<&str>, sensitive: bool) -> String {
    match (sensitive, value) {
        (true, _) => format!("Value at '{member}'"),
        (false, Some(v)) => format!("Value '{v}' at '{member}'"),
        (false, None) => format!("Value null at '{member}'"),
    }
}

/// Collects violations in the order they are checked and renders Coral's message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Violations {
    items: Vec<String>,
}

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of violations collected.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push(&mut self, member: &str, value: Option<&str>, sensitive: bool, constraint: &str) {
        self.items.push(format!(
            "{} failed to satisfy constraint: {constraint}",
            value_at(member, value, sensitive)
        ));
    }

    fn null_check(&mut self, member: &str, sensitive: bool, required: bool) {
        if required {
            self.push(member, None, sensitive, "Member must not be null");
        }
    }

    /// Check a string member. `member` is the lower-camel path Coral prints (`userPoolId`,
    /// `userAttributes.1.member.name`). A missing value is a violation only when `required`.
    /// One violation per failed constraint, length before pattern before enum.
    pub fn string(
        &mut self,
        member: &str,
        value: Option<&str>,
        shape: &StringShape,
        required: bool,
    ) -> &mut Self {
        let Some(v) = value else {
            self.null_check(member, shape.sensitive, required);
            return self;
        };
        if let Some(c) = shape.length_violation(v) {
            self.push(member, value, shape.sensitive, &c);
        }
        if let Some(p) = shape.pattern {
            if !p.is_match(v) {
                self.push(member, value, shape.sensitive, &pattern_constraint(p));
            }
        }
        if let Some(e) = shape.enum_values {
            if !e.contains(&v) {
                self.push(member, value, shape.sensitive, &enum_constraint(e));
            }
        }
        self
    }

    /// Check a list of strings. If any element fails, Coral reports the whole list once:
    /// `Value '[SMS, FAX]' at 'desiredDeliveryMediums' failed to satisfy constraint: Member must
    /// satisfy constraint: [Member must satisfy enum value set: [SMS, EMAIL]]`.
    pub fn string_list<I, S>(
        &mut self,
        member: &str,
        items: Option<I>,
        shape: &ListShape,
        required: bool,
    ) -> &mut Self
    where
        I: IntoIterator<Item = S> + Clone,
        S: AsRef<str>,
    {
        let Some(items) = items else {
            self.null_check(member, shape.sensitive, required);
            return self;
        };
        if items
            .clone()
            .into_iter()
            .any(|s| shape.member.fails(s.as_ref()))
        {
            let rendered = if shape.sensitive || shape.member.sensitive {
                None
            } else {
                let all: Vec<S> = items.into_iter().collect();
                Some(bracketed(all.iter().map(AsRef::as_ref)))
            };
            let constraint = format!(
                "Member must satisfy constraint: {}",
                shape.member.describe_all()
            );
            self.push(member, rendered.as_deref(), rendered.is_none(), &constraint);
        }
        self
    }

    /// Check a string-to-string map. Coral reports the whole map once for keys and once for
    /// values, listing all of the key (value) shape's constraints:
    /// `Value '{k=v}' at 'clientMetadata' failed to satisfy constraint: Map value must satisfy
    /// constraint: [Member must have length less than or equal to 131072, ...]`.
    /// The echo follows the iteration order of `entries` (Coral's is a Java map's; unverified).
    pub fn map<I, K, V>(
        &mut self,
        member: &str,
        entries: Option<I>,
        shape: &MapShape,
        required: bool,
    ) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)> + Clone,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let Some(entries) = entries else {
            self.null_check(member, shape.sensitive, required);
            return self;
        };
        let mut bad_key = false;
        let mut bad_value = false;
        for (k, v) in entries.clone() {
            bad_key |= shape.key.fails(k.as_ref());
            bad_value |= shape.value.fails(v.as_ref());
        }
        if !bad_key && !bad_value {
            return self;
        }
        let rendered = if shape.sensitive {
            None
        } else {
            // Java's AbstractMap.toString: {k1=v1, k2=v2}.
            let mut s = String::from("{");
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(k.as_ref());
                s.push('=');
                s.push_str(v.as_ref());
            }
            s.push('}');
            Some(s)
        };
        if bad_key {
            let c = format!(
                "Map keys must satisfy constraint: {}",
                shape.key.describe_all()
            );
            self.push(member, rendered.as_deref(), shape.sensitive, &c);
        }
        if bad_value {
            let c = format!(
                "Map value must satisfy constraint: {}",
                shape.value.describe_all()
            );
            self.push(member, rendered.as_deref(), shape.sensitive, &c);
        }
        self
    }

    /// Check an `AttributeListType` member (`userAttributes`, `validationData`): each element is
    /// `(Name, Value)`; Name is required. Paths are Coral's 1-based
    /// `<member>.<N>.member.name` / `.value` (verified for `userAttributes.1.member.name`).
    pub fn attributes<I, N, V>(
        &mut self,
        member: &str,
        items: Option<I>,
        required: bool,
    ) -> &mut Self
    where
        I: IntoIterator<Item = (Option<N>, Option<V>)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let Some(items) = items else {
            self.null_check(member, false, required);
            return self;
        };
        for (i, (name, value)) in items.into_iter().enumerate() {
            let n = i.saturating_add(1);
            self.string(
                &format!("{member}.{n}.member.name"),
                name.as_ref().map(AsRef::as_ref),
                &ATTRIBUTE_NAME,
                true,
            );
            self.string(
                &format!("{member}.{n}.member.value"),
                value.as_ref().map(AsRef::as_ref),
                &ATTRIBUTE_VALUE,
                false,
            );
        }
        self
    }

    /// None if nothing failed; otherwise Coral's full message:
    /// `1 validation error detected: <v>` or `N validation errors detected: <v1>; <v2>`.
    pub fn message(&self) -> Option<String> {
        let n = self.items.len();
        if n == 0 {
            return None;
        }
        let noun = if n == 1 { "error" } else { "errors" };
        Some(format!(
            "{n} validation {noun} detected: {}",
            self.items.join("; ")
        ))
    }
}

/// Whether `value` satisfies `shape` as a required member (no violation at all).
pub fn conforms(value: &str, shape: &StringShape) -> bool {
    Violations::new()
        .string("value", Some(value), shape, true)
        .is_empty()
}

/// Whether `id` is a valid `UserPoolIdType`.
pub fn is_user_pool_id(id: &str) -> bool {
    conforms(id, &USER_POOL_ID)
}

/// Whether `id` is a valid `ClientIdType`.
pub fn is_client_id(id: &str) -> bool {
    conforms(id, &CLIENT_ID)
}

/// Whether `secret` is a valid `ClientSecretType`.
pub fn is_client_secret(secret: &str) -> bool {
    conforms(secret, &CLIENT_SECRET)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Message for a single `string` check.
    fn one(
        member: &str,
        value: Option<&str>,
        shape: &StringShape,
        required: bool,
    ) -> Option<String> {
        let mut v = Violations::new();
        v.string(member, value, shape, required);
        v.message()
    }

    fn admin(pool: Option<&str>, user: Option<&str>) -> Option<String> {
        let mut v = Violations::new();
        v.string("userPoolId", pool, &USER_POOL_ID, true)
            .string("username", user, &USERNAME, true);
        v.message()
    }

    // ---- cognito.md §9 scenarios, exact text ----

    #[test]
    fn scenario_12_pool_id_n_a_fails_the_pattern_and_is_echoed() {
        assert_eq!(
            admin(Some("n/a"), Some("u")).as_deref(),
            Some(
                r"1 validation error detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+"
            )
        );
    }

    #[test]
    fn scenario_13_a_56_char_pool_id_fails_only_the_length() {
        let pool = format!("us-east-1_{}", "a".repeat(46));
        assert_eq!(pool.len(), 56);
        assert_eq!(
            admin(Some(&pool), Some("u")),
            Some(format!(
                "1 validation error detected: Value '{pool}' at 'userPoolId' failed to satisfy constraint: Member must have length less than or equal to 55"
            ))
        );
    }

    #[test]
    fn a_55_char_pool_id_is_valid() {
        let pool = format!("us-east-1_{}", "a".repeat(45));
        assert_eq!(pool.len(), 55);
        assert_eq!(admin(Some(&pool), Some("u")), None);
    }

    #[test]
    fn scenario_14_a_129_char_username_fails_the_length_without_echo() {
        assert_eq!(
            admin(Some("us-east-1_AbC123"), Some(&"u".repeat(129))).as_deref(),
            Some("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128")
        );
        assert_eq!(
            admin(Some("us-east-1_AbC123"), Some(&"u".repeat(128))),
            None
        );
    }

    #[test]
    fn scenario_15_a_username_with_a_space_fails_the_pattern_without_echo() {
        assert_eq!(
            admin(Some("us-east-1_AbC123"), Some("a b")).as_deref(),
            Some(
                r"1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+"
            )
        );
    }

    #[test]
    fn scenario_29_access_token_n_a_fails_the_pattern_without_echo() {
        assert_eq!(
            one("accessToken", Some("n/a"), &TOKEN_MODEL, true).as_deref(),
            Some("1 validation error detected: Value at 'accessToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_=.]+")
        );
    }

    // ---- other texts observed from real Cognito ----

    #[test]
    fn a_pool_id_with_a_leading_space_matches_aws_sdk_js_3344() {
        assert_eq!(
            admin(Some(" ap-northeast-1_xxx"), Some("u")).as_deref(),
            Some(
                r"1 validation error detected: Value ' ap-northeast-1_xxx' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+"
            )
        );
    }

    #[test]
    fn an_empty_access_token_fails_only_the_pattern_since_the_shape_has_no_length() {
        assert_eq!(
            one("accessToken", Some(""), &TOKEN_MODEL, true).as_deref(),
            Some("1 validation error detected: Value at 'accessToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_=.]+")
        );
    }

    #[test]
    fn a_null_sensitive_member_is_reported_without_the_word_null() {
        assert_eq!(
            one("accessToken", None, &TOKEN_MODEL, true).as_deref(),
            Some("1 validation error detected: Value at 'accessToken' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn an_empty_attribute_name_fails_length_then_pattern_at_the_coral_list_path() {
        let mut v = Violations::new();
        v.attributes("userAttributes", Some([(Some(""), Some("x"))]), false);
        assert_eq!(
            v.message().as_deref(),
            Some(
                r"2 validation errors detected: Value '' at 'userAttributes.1.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'userAttributes.1.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+"
            )
        );
    }

    #[test]
    fn a_null_attribute_name_is_a_null_violation_at_the_coral_list_path() {
        let mut v = Violations::new();
        v.attributes("userAttributes", Some([(None::<&str>, Some("x"))]), false);
        assert_eq!(
            v.message().as_deref(),
            Some("1 validation error detected: Value null at 'userAttributes.1.member.name' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn an_empty_username_fails_length_then_pattern() {
        assert_eq!(
            one("username", Some(""), &USERNAME, true).as_deref(),
            Some(
                r"2 validation errors detected: Value at 'username' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+"
            )
        );
    }

    // ---- grammar: counts, joins, order, nulls, sensitivity ----

    #[test]
    fn nothing_failing_gives_no_message() {
        assert_eq!(admin(Some("us-east-1_AbC123"), Some("alice")), None);
        assert!(Violations::new().is_empty());
    }

    #[test]
    fn two_members_failing_are_counted_and_joined_in_check_order() {
        assert_eq!(
            admin(Some("n/a"), Some(&"u".repeat(129))).as_deref(),
            Some(
                r"2 validation errors detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+; Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128"
            )
        );
    }

    #[test]
    fn an_empty_admin_body_reports_both_required_members_as_null() {
        assert_eq!(
            admin(None, None).as_deref(),
            Some("2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null; Value at 'username' failed to satisfy constraint: Member must not be null")
        );
    }

    #[test]
    fn a_missing_optional_member_is_not_a_violation() {
        assert_eq!(one("clientSecret", None, &CLIENT_SECRET, false), None);
        assert_eq!(one("messageAction", None, &MESSAGE_ACTION, false), None);
    }

    #[test]
    fn a_value_failing_length_and_pattern_gives_two_violations_length_first() {
        let user = format!("{} x", "u".repeat(127));
        assert_eq!(
            one("username", Some(&user), &USERNAME, true).as_deref(),
            Some(
                r"2 validation errors detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128; Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+"
            )
        );
    }

    #[test]
    fn a_non_sensitive_pool_id_is_echoed_but_a_sensitive_client_id_is_not() {
        assert_eq!(
            one("userPoolId", Some("a b"), &USER_POOL_ID, true).as_deref(),
            Some(
                r"1 validation error detected: Value 'a b' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+"
            )
        );
        assert_eq!(
            one("clientId", Some("a b"), &CLIENT_ID, true).as_deref(),
            Some(
                r"1 validation error detected: Value at 'clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+]+"
            )
        );
    }

    #[test]
    fn initiate_auth_client_id_is_echoed_as_observed() {
        assert_eq!(
            one(
                "clientId",
                Some("ap-northeast-1_xxxxxxxxx"),
                &INITIATE_AUTH_CLIENT_ID,
                true
            )
            .as_deref(),
            Some(
                r"1 validation error detected: Value 'ap-northeast-1_xxxxxxxxx' at 'clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+]+"
            )
        );
        assert_eq!(
            one("clientId", None, &INITIATE_AUTH_CLIENT_ID, true).as_deref(),
            Some("1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null")
        );
    }

    // ---- the username pattern, character by character ----

    fn username_ok(u: &str) -> bool {
        one("username", Some(u), &USERNAME, true).is_none()
    }

    #[test]
    fn a_username_with_a_tab_or_control_char_or_nul_is_rejected() {
        assert!(!username_ok("a\tb"));
        assert!(!username_ok("a\u{7}b"));
        assert!(!username_ok("a\u{0}b"));
        assert!(!username_ok("a\u{7f}b"));
    }

    #[test]
    fn a_username_with_a_non_ascii_separator_or_format_or_private_use_char_is_rejected() {
        assert!(!username_ok("a\u{a0}b")); // NO-BREAK SPACE, Zs
        assert!(!username_ok("a\u{3000}b")); // IDEOGRAPHIC SPACE, Zs
        assert!(!username_ok("a\u{2028}b")); // LINE SEPARATOR, Zl
        assert!(!username_ok("a\u{200b}b")); // ZERO WIDTH SPACE, Cf
        assert!(!username_ok("a\u{e000}b")); // private use, Co
        assert!(!username_ok("a\u{378}b")); // unassigned, Cn
    }

    #[test]
    fn a_username_with_an_emoji_or_combining_mark_or_email_punctuation_is_accepted() {
        assert!(username_ok("bob😀")); // So
        assert!(username_ok("e\u{301}")); // Mn
        assert!(username_ok("test+test@test.com"));
        assert!(username_ok("Ünïcødé_名前-١٢٣"));
    }

    #[test]
    fn username_length_counts_chars_not_bytes() {
        assert!(username_ok(&"é".repeat(128)));
        assert!(username_ok(&"名".repeat(128)));
        assert!(username_ok(&"😀".repeat(128)));
        assert_eq!(
            one("username", Some(&"名".repeat(129)), &USERNAME, true).as_deref(),
            Some("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128")
        );
    }

    // ---- the ASCII patterns ----

    #[test]
    fn pool_ids_split_on_the_last_underscore() {
        for ok in ["us-east-1_AbC123", "a_b", "a__b", "a-b_c_d", "local_1"] {
            assert!(Pattern::UserPoolId.is_match(ok), "{ok}");
        }
        for bad in [
            "", "_abc", "abc_", "a_b-c", "abc", "é_a", "a_é", "a_b c", "-_",
        ] {
            assert!(!Pattern::UserPoolId.is_match(bad), "{bad}");
        }
        assert!(Pattern::UserPoolId.is_match("-_a"));
    }

    #[test]
    fn tokens_allow_base64url_and_dots_but_not_plus_or_slash() {
        assert!(Pattern::Token.is_match("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.a-b_c=="));
        assert!(!Pattern::Token.is_match("abc+def"));
        assert!(!Pattern::Token.is_match("abc/def"));
        assert!(!Pattern::Token.is_match("abc def"));
    }

    #[test]
    fn passwords_use_java_ascii_whitespace() {
        assert_eq!(one("password", Some("pa\u{a0}ss"), &PASSWORD, true), None);
        assert!(one("password", Some("pa\u{b}ss"), &PASSWORD, true).is_some());
        assert_eq!(
            one("password", Some(""), &PASSWORD, true).as_deref(),
            Some(
                r"1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\S]+"
            )
        );
        assert_eq!(
            one("password", Some(&"p".repeat(257)), &PASSWORD, true).as_deref(),
            Some("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 256")
        );
    }

    #[test]
    fn a_23_char_client_secret_is_too_short() {
        assert_eq!(
            one("clientSecret", Some(&"s".repeat(23)), &CLIENT_SECRET, false).as_deref(),
            Some("1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: Member must have length greater than or equal to 24")
        );
        assert_eq!(
            one("clientSecret", Some(&"s".repeat(24)), &CLIENT_SECRET, false),
            None
        );
    }

    #[test]
    fn secret_hash_allows_base64_characters() {
        assert_eq!(
            one("secretHash", Some("ab+c/d=="), &SECRET_HASH, false),
            None
        );
        assert!(one("secretHash", Some("ab-c"), &SECRET_HASH, false).is_some());
    }

    #[test]
    fn a_19_char_session_is_too_short() {
        assert_eq!(
            one("session", Some(&"s".repeat(19)), &SESSION, false).as_deref(),
            Some("1 validation error detected: Value at 'session' failed to satisfy constraint: Member must have length greater than or equal to 20")
        );
    }

    // ---- enums, lists, maps ----

    #[test]
    fn an_unknown_auth_flow_lists_the_enum_in_model_order() {
        assert_eq!(
            one("authFlow", Some("NO_SUCH_FLOW"), &AUTH_FLOW, true).as_deref(),
            Some("1 validation error detected: Value 'NO_SUCH_FLOW' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]")
        );
        assert_eq!(one("authFlow", Some("USER_AUTH"), &AUTH_FLOW, true), None);
    }

    #[test]
    fn enum_values_are_case_sensitive() {
        assert_eq!(
            one("messageAction", Some("resend"), &MESSAGE_ACTION, false).as_deref(),
            Some("1 validation error detected: Value 'resend' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]")
        );
        assert!(one("challengeName", Some("PASSWORD_SRP"), &CHALLENGE_NAME, true).is_none());
        assert!(one("challengeName", Some(""), &CHALLENGE_NAME, true).is_some());
        assert!(one(
            "revokeAssociatedSessions",
            Some("ALL"),
            &REVOKE_ASSOCIATED_SESSIONS,
            false
        )
        .is_some());
    }

    #[test]
    fn a_bad_delivery_medium_reports_the_whole_list_once() {
        let mut v = Violations::new();
        v.string_list(
            "desiredDeliveryMediums",
            Some(["SMS", "FAX", "PIGEON"]),
            &DESIRED_DELIVERY_MEDIUMS,
            false,
        );
        assert_eq!(
            v.message().as_deref(),
            Some("1 validation error detected: Value '[SMS, FAX, PIGEON]' at 'desiredDeliveryMediums' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [SMS, EMAIL]]")
        );
        let mut ok = Violations::new();
        ok.string_list(
            "desiredDeliveryMediums",
            Some(vec!["EMAIL".to_string()]),
            &DESIRED_DELIVERY_MEDIUMS,
            false,
        )
        .string_list(
            "desiredDeliveryMediums",
            None::<[&str; 0]>,
            &DESIRED_DELIVERY_MEDIUMS,
            false,
        );
        assert!(ok.is_empty());
    }

    #[test]
    fn an_oversized_client_metadata_value_echoes_the_map_and_lists_all_value_constraints() {
        let big = "v".repeat(131_073);
        let mut v = Violations::new();
        v.map(
            "clientMetadata",
            Some([("k", big.as_str())]),
            &CLIENT_METADATA,
            false,
        );
        assert_eq!(
            v.message(),
            Some(format!("1 validation error detected: Value '{{k={big}}}' at 'clientMetadata' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 131072, Member must have length greater than or equal to 0]"))
        );
    }

    #[test]
    fn an_oversized_auth_parameters_key_is_reported_without_echo() {
        let big = "k".repeat(131_073);
        let map = std::collections::BTreeMap::from([(big, "v".to_string())]);
        let mut v = Violations::new();
        v.map("authParameters", Some(&map), &AUTH_PARAMETERS, false);
        assert_eq!(
            v.message().as_deref(),
            Some("1 validation error detected: Value at 'authParameters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 131072, Member must have length greater than or equal to 0]")
        );
    }

    #[test]
    fn ordinary_maps_pass() {
        let map = std::collections::HashMap::from([("USERNAME", "alice"), ("SECRET_HASH", "")]);
        let mut v = Violations::new();
        v.map("authParameters", Some(&map), &AUTH_PARAMETERS, false)
            .map(
                "challengeResponses",
                None::<&std::collections::HashMap<&str, &str>>,
                &CHALLENGE_RESPONSES,
                false,
            );
        assert!(v.is_empty());
    }

    #[test]
    fn attribute_paths_are_one_based_and_values_are_sensitive() {
        let attrs = [
            (Some("email"), Some("a@example.com")),
            (Some("custom:has space"), Some("x")),
            (Some("n".repeat(33).as_str()), Some("y")),
        ]
        .map(|(n, v)| (n.map(str::to_owned), v));
        let big = "v".repeat(2049);
        let mut v = Violations::new();
        v.attributes(
            "userAttributes",
            Some(attrs.iter().map(|(n, v)| (n.as_deref(), *v))),
            false,
        )
        .attributes(
            "validationData",
            Some([(Some("k"), Some(big.as_str()))]),
            false,
        );
        let n33 = "n".repeat(33);
        assert_eq!(
            v.message(),
            Some(format!("2 validation errors detected: Value '{n33}' at 'userAttributes.3.member.name' failed to satisfy constraint: Member must have length less than or equal to 32; Value at 'validationData.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 2048"))
        );
    }

    // ---- oracle and robustness ----

    /// Deterministic pseudo-random generator (Knuth's MMIX LCG).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        fn below(&mut self, n: u32) -> u32 {
            self.next() % n
        }
    }

    /// Interesting characters: pattern edges, Java-vs-Rust whitespace, multi-byte of every width.
    const ALPHABET: &[char] = &[
        'a',
        'Z',
        '0',
        '9',
        '_',
        '-',
        '+',
        '=',
        '/',
        '.',
        '@',
        ' ',
        '\t',
        '\n',
        '\r',
        '\u{b}',
        '\u{c}',
        '\u{0}',
        '\u{7f}',
        '\u{85}',
        '\u{a0}',
        'é',
        'ß',
        '\u{301}',
        '\u{200b}',
        '\u{2028}',
        '\u{3000}',
        '名',
        '١',
        '€',
        '😀',
        '\u{1f3fb}',
        '\u{e000}',
        '\u{f0000}',
        '\u{378}',
        '\u{fffd}',
        '\u{10ffff}',
        '\'',
        '{',
        '}',
        '[',
        ']',
        ';',
        ',',
    ];

    fn random_string(rng: &mut Lcg) -> String {
        let len = match rng.below(10) {
            0 => 0,
            1 => 50 + rng.below(10) as usize, // around the pool-id limit
            2 => 120 + rng.below(20) as usize, // around the username limit
            _ => rng.below(12) as usize,
        };
        (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    // Any scalar value at all.
                    char::from_u32(rng.below(0x11_0000)).unwrap_or('\u{fffd}')
                } else {
                    ALPHABET[rng.below(ALPHABET.len() as u32) as usize]
                }
            })
            .collect()
    }

    const ALL_PATTERNS: [Pattern; 7] = [
        Pattern::UserPoolId,
        Pattern::ClientId,
        Pattern::SecretHash,
        Pattern::Token,
        Pattern::NonWhitespace,
        Pattern::Username,
        Pattern::AttributeName,
    ];

    /// The same patterns for the `regex` crate, Java semantics spelled out (ASCII \w and \s).
    fn oracle(p: Pattern) -> regex::Regex {
        let src = match p {
            Pattern::UserPoolId => r"^[A-Za-z0-9_-]+_[0-9a-zA-Z]+$",
            Pattern::ClientId => r"^[A-Za-z0-9_+]+$",
            Pattern::SecretHash => r"^[A-Za-z0-9_+=/]+$",
            Pattern::Token => r"^[A-Za-z0-9_=.\-]+$",
            Pattern::NonWhitespace => r"^[^ \t\n\x0B\x0C\r]+$",
            Pattern::Username => r"^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$",
            Pattern::AttributeName => r"^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+$",
        };
        regex::Regex::new(src).unwrap()
    }

    #[test]
    fn the_predicates_agree_with_a_regex_engine_on_thousands_of_random_strings() {
        let oracles: Vec<_> = ALL_PATTERNS.iter().map(|&p| (p, oracle(p))).collect();
        let mut rng = Lcg(0x5eed);
        for _ in 0..5000 {
            let s = random_string(&mut rng);
            for (p, re) in &oracles {
                assert_eq!(p.is_match(&s), re.is_match(&s), "{p:?} on {s:?}");
            }
        }
    }

    #[test]
    fn the_predicates_agree_with_a_regex_engine_on_every_short_string_of_edge_chars() {
        let alphabet = ['a', '1', '_', '-', '+', ' ', 'é', '\u{b}'];
        let oracles: Vec<_> = ALL_PATTERNS.iter().map(|&p| (p, oracle(p))).collect();
        let mut strings = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(frontier.iter().cloned());
        }
        for s in &strings {
            for (p, re) in &oracles {
                assert_eq!(p.is_match(s), re.is_match(s), "{p:?} on {s:?}");
            }
        }
    }

    #[test]
    fn the_username_class_agrees_with_a_regex_engine_on_every_scalar_value() {
        // Both use Unicode 16.0 tables, so this must hold for every code point.
        let re = oracle(Pattern::Username);
        let mut buf = [0u8; 4];
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            assert_eq!(
                Pattern::Username.is_match(c.encode_utf8(&mut [0u8; 4])),
                re.is_match(c.encode_utf8(&mut buf)),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn thousands_of_random_inputs_through_every_check_never_panic_and_count_correctly() {
        let mut rng = Lcg(42);
        for _ in 0..3000 {
            let a = random_string(&mut rng);
            let b = random_string(&mut rng);
            let maybe = |rng: &mut Lcg, s: &str| (rng.below(4) != 0).then(|| s.to_owned());
            let (ma, mb) = (maybe(&mut rng, &a), maybe(&mut rng, &b));
            let mut v = Violations::new();
            for shape in [
                USER_POOL_ID,
                USERNAME,
                TOKEN_MODEL,
                CLIENT_ID,
                INITIATE_AUTH_CLIENT_ID,
                CLIENT_SECRET,
                SECRET_HASH,
                PASSWORD,
                SESSION,
                STRING,
                STRING.redacted(),
                ATTRIBUTE_NAME,
                ATTRIBUTE_VALUE,
                AUTH_FLOW,
                CHALLENGE_NAME,
                MESSAGE_ACTION,
                DELIVERY_MEDIUM,
                REVOKE_ASSOCIATED_SESSIONS,
            ] {
                v.string(&b, ma.as_deref(), &shape, rng.below(2) == 0);
            }
            v.string_list(
                "desiredDeliveryMediums",
                ma.as_ref().map(|s| [s.as_str(), b.as_str()]),
                &DESIRED_DELIVERY_MEDIUMS,
                true,
            )
            .map(
                "clientMetadata",
                Some([(a.as_str(), b.as_str())]),
                &CLIENT_METADATA,
                false,
            )
            .map(
                "authParameters",
                mb.as_ref().map(|s| [(s.as_str(), a.as_str())]),
                &AUTH_PARAMETERS,
                true,
            )
            .attributes(
                "userAttributes",
                Some([(ma.as_deref(), mb.as_deref()), (Some(b.as_str()), None)]),
                false,
            );
            match v.message() {
                None => assert!(v.is_empty()),
                Some(m) => {
                    let n = v.len();
                    let noun = if n == 1 { "error" } else { "errors" };
                    assert!(
                        m.starts_with(&format!("{n} validation {noun} detected: Value ")),
                        "{m}"
                    );
                }
            }
        }
    }
}
