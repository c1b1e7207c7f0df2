//! Confirmation and verification codes of local pools: SignUp, ForgotPassword and attribute
//! verification.
//!
//! Local pools send no mail and no SMS. A code is kept, sealed (`seal`, purpose `code`: AES-GCM
//! under a key derived from `SIGNING_KEYS`), under `user/v1/<pool>/code/<purpose>/<holder>`,
//! where an administrator reads it (`AdminGetConfirmationCodes`) and, in a development run
//! (`DEV_MODE`), the Worker's log shows it. It is never in an answer to the caller who asked
//! for it.
//!
//! # One model for every name
//! A name nobody has gets codes too, under a stand-in holder id (a keyed pseudonym of the name,
//! `seal::pseudonym`), delivered nowhere. So ForgotPassword, ResendConfirmationCode and the
//! confirmations do the same reads and writes, and answer the same way, whether or not the user
//! exists (Cognito's PreventUserExistenceErrors `ENABLED`): a wrong code is a wrong code.
//!
//! # Guessing
//! Six digits, [`MAX_ATTEMPTS`] wrong answers per code, after which the code is spent
//! (LimitExceededException until a new one is asked for); a right answer spends it too. The
//! count is kept in the record, read then written: KV has no compare-and-set and is eventually
//! consistent across locations, so guesses sent at the same moment to several locations can
//! each be counted from the same value. Within one location the bound holds.

use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::{
    config::Pool,
    error::{ApiError, Error},
    identity::key_component,
    local::seal::{self, Purpose},
    ports::Store,
    signing::SigningKeys,
};

/// Wrong answers a code takes before it is spent.
pub const MAX_ATTEMPTS: u64 = 5;
/// Digits in a code.
const DIGITS: u32 = 6;

/// What a code confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// SignUp and ResendConfirmationCode; ConfirmSignUp takes it. Valid 24 hours, as Cognito's.
    SignUp,
    /// ForgotPassword; ConfirmForgotPassword takes it. Valid 1 hour, as Cognito's.
    ForgotPassword,
    /// A changed email (UpdateUserAttributes, GetUserAttributeVerificationCode);
    /// VerifyUserAttribute takes it. Valid 24 hours.
    VerifyEmail,
}

impl CodePurpose {
    /// Every purpose, in the order an administrator reads them.
    pub const ALL: [CodePurpose; 3] = [
        CodePurpose::SignUp,
        CodePurpose::ForgotPassword,
        CodePurpose::VerifyEmail,
    ];

    /// The name in keys, records and `AdminGetConfirmationCodes`.
    pub fn label(self) -> &'static str {
        match self {
            CodePurpose::SignUp => "SIGN_UP",
            CodePurpose::ForgotPassword => "FORGOT_PASSWORD",
            CodePurpose::VerifyEmail => "VERIFY_EMAIL",
        }
    }

    /// How long a code is accepted, in seconds.
    pub fn lifetime_s(self) -> u64 {
        match self {
            CodePurpose::ForgotPassword => 3_600,
            CodePurpose::SignUp | CodePurpose::VerifyEmail => 86_400,
        }
    }
}

/// Where a code would have been sent: Cognito's `CodeDeliveryDetailsType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The masked destination, `a***@e***`.
    pub destination: String,
    /// `EMAIL`.
    pub medium: &'static str,
    /// `email`.
    pub attribute: &'static str,
}

impl Delivery {
    /// A delivery to `email`, masked as Cognito masks it: the first character of the local part
    /// and of the domain.
    pub fn email(email: &str) -> Self {
        let (local, domain) = email.split_once('@').unwrap_or((email, ""));
        let first = |text: &str| text.chars().next().map(String::from).unwrap_or_default();
        Self {
            destination: format!("{}***@{}***", first(local), first(domain)),
            medium: "EMAIL",
            attribute: "email",
        }
    }

    /// Cognito's JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "Destination": self.destination,
            "DeliveryMedium": self.medium,
            "AttributeName": self.attribute,
        })
    }
}

/// A code waiting to be entered, as an administrator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// What it confirms.
    pub purpose: CodePurpose,
    /// The code.
    pub code: String,
    /// When it stops being accepted, in seconds.
    pub expires_s: u64,
    /// Wrong answers so far.
    pub attempts: u64,
}

/// Codes of one local pool.
pub struct Codes<'a> {
    pool: &'a Pool,
    store: &'a dyn Store,
    keys: &'a SigningKeys,
    now_ms: u64,
}

fn mismatch() -> Error {
    ApiError::CodeMismatch.into()
}

impl<'a> Codes<'a> {
    /// The codes of `pool`, kept in `store`.
    pub fn new(pool: &'a Pool, store: &'a dyn Store, keys: &'a SigningKeys, now_ms: u64) -> Self {
        Self {
            pool,
            store,
            keys,
            now_ms,
        }
    }

    fn key(&self, purpose: CodePurpose, holder: &str) -> String {
        format!(
            "user/v1/{}/code/{}/{}",
            self.pool.id,
            purpose.label(),
            key_component(holder)
        )
    }

    fn now_s(&self) -> u64 {
        self.now_ms / 1000
    }

    async fn write(
        &self,
        purpose: CodePurpose,
        holder: &str,
        code: &str,
        expires_s: u64,
        attempts: u64,
    ) -> Result<(), Error> {
        let claims = json!({
            "purpose": purpose.label(),
            "holder": holder,
            "code": code,
            "exp": expires_s,
            "attempts": attempts,
        });
        let Value::Object(claims) = claims else {
            return Err(Error::Internal("code claims are not an object".into()));
        };
        let sealed = seal::seal(self.keys, Purpose::Code, &claims).map_err(Error::Internal)?;
        // KV keeps it a little past its expiry (never under KV's 60 s), so a late answer is
        // told the code expired rather than that it is wrong.
        let ttl = expires_s.saturating_sub(self.now_s()).saturating_add(3_600);
        self.store
            .put(&self.key(purpose, holder), &sealed, Some(ttl.max(60)))
            .await?;
        Ok(())
    }

    async fn read(&self, purpose: CodePurpose, holder: &str) -> Result<Option<Pending>, Error> {
        let key = self.key(purpose, holder);
        let Some(sealed) = crate::ports::get_one(self.store, &key, None).await? else {
            return Ok(None);
        };
        // A record that does not open (a retired signing key, tampering) is no code at all.
        let Some(claims) = seal::open(self.keys, Purpose::Code, &sealed) else {
            return Ok(None);
        };
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let number = |name: &str| claims.get(name).and_then(Value::as_u64);
        if text("purpose") != Some(purpose.label()) || text("holder") != Some(holder) {
            return Ok(None);
        }
        let (Some(code), Some(expires_s), Some(attempts)) =
            (text("code"), number("exp"), number("attempts"))
        else {
            return Ok(None);
        };
        Ok(Some(Pending {
            purpose,
            code: code.to_owned(),
            expires_s,
            attempts,
        }))
    }

    /// Draws a new code for `holder` (a user's sub, or a stand-in id), replacing any earlier
    /// one, and answers it.
    pub async fn issue(&self, purpose: CodePurpose, holder: &str) -> Result<String, Error> {
        let code = random_code()?;
        let expires_s = self.now_s().saturating_add(purpose.lifetime_s());
        self.write(purpose, holder, &code, expires_s, 0).await?;
        Ok(code)
    }

    /// Checks `given` against `holder`'s code: a right answer spends the code; a wrong one is
    /// counted (CodeMismatchException), and the [`MAX_ATTEMPTS`]th spends it
    /// (LimitExceededException from then on). An expired code is ExpiredCodeException. With no
    /// code at all (a name nobody has, a user never sent one) the answer is a wrong code's, and
    /// the wrong answer is counted all the same, under a code nobody was given.
    pub async fn check(
        &self,
        purpose: CodePurpose,
        holder: &str,
        given: &str,
    ) -> Result<(), Error> {
        let pending = match self.read(purpose, holder).await? {
            Some(pending) => pending,
            None => Pending {
                purpose,
                code: random_code()?,
                expires_s: self.now_s().saturating_add(purpose.lifetime_s()),
                attempts: 0,
            },
        };
        if pending.attempts >= MAX_ATTEMPTS {
            return Err(ApiError::LimitExceeded.into());
        }
        if pending.expires_s <= self.now_s() {
            return Err(ApiError::ExpiredCode.into());
        }
        let right = given.len() == pending.code.len()
            && bool::from(given.as_bytes().ct_eq(pending.code.as_bytes()));
        if right {
            self.store.delete(&self.key(purpose, holder)).await?;
            return Ok(());
        }
        let attempts = pending.attempts.saturating_add(1);
        self.write(purpose, holder, &pending.code, pending.expires_s, attempts)
            .await?;
        Err(mismatch())
    }

    /// Every code waiting for `holder`, for an administrator.
    pub async fn pending(&self, holder: &str) -> Result<Vec<Pending>, Error> {
        let mut found = Vec::new();
        for purpose in CodePurpose::ALL {
            if let Some(pending) = self.read(purpose, holder).await? {
                if pending.expires_s > self.now_s() && pending.attempts < MAX_ATTEMPTS {
                    found.push(pending);
                }
            }
        }
        Ok(found)
    }
}

/// Six random digits, uniform (rejection sampling over `u32`).
fn random_code() -> Result<String, Error> {
    let modulus = 10u32.pow(DIGITS);
    // The largest multiple of the modulus that fits: values at or above it would bias the
    // low codes.
    let limit = u32::MAX - u32::MAX % modulus;
    for _ in 0..64 {
        let mut bytes = [0u8; 4];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| Error::Internal(format!("no randomness for a code: {e}")))?;
        let value = u32::from_be_bytes(bytes);
        if value < limit {
            return Ok(format!("{:06}", value % modulus));
        }
    }
    Err(Error::Internal("no unbiased code in 64 draws".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, ports::MemoryStore};

    fn setup() -> (Pool, SigningKeys) {
        let mut vars = serde_json::Map::new();
        vars.insert(
            "POOLS".into(),
            json!([{"id":"us-east-1_Local1","local":{},"issuer":"http://127.0.0.1:8787/us-east-1_Local1","clients":[{"id":"c"}]}]),
        );
        vars.insert(
            "SIGNING_KEYS".into(),
            crate::signing::test_keys::signing_keys_json(),
        );
        let mut config = Config::from_env(&vars).unwrap();
        (config.pools.remove(0), config.signing_keys.unwrap())
    }

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    fn wrong(code: &str) -> String {
        let digit = code.as_bytes()[0] - b'0';
        format!("{}{}", (digit + 1) % 10, &code[1..])
    }

    #[test]
    fn a_code_is_six_digits_and_right_once() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let codes = Codes::new(&pool, &store, &keys, 1_000_000);
        let code = run(codes.issue(CodePurpose::SignUp, "s-1")).unwrap();
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        run(codes.check(CodePurpose::SignUp, "s-1", &code)).unwrap();
        assert_eq!(
            run(codes.check(CodePurpose::SignUp, "s-1", &code)),
            Err(Error::Api(ApiError::CodeMismatch)),
            "a code is spent by its right answer"
        );
    }

    #[test]
    fn a_code_for_one_purpose_or_holder_does_not_answer_another() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let codes = Codes::new(&pool, &store, &keys, 1_000_000);
        let code = run(codes.issue(CodePurpose::SignUp, "s-1")).unwrap();
        assert!(run(codes.check(CodePurpose::ForgotPassword, "s-1", &code)).is_err());
        assert!(run(codes.check(CodePurpose::SignUp, "s-2", &code)).is_err());
        run(codes.check(CodePurpose::SignUp, "s-1", &code)).unwrap();
    }

    #[test]
    fn the_fifth_wrong_answer_spends_the_code_even_for_the_right_one_after() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let codes = Codes::new(&pool, &store, &keys, 1_000_000);
        let code = run(codes.issue(CodePurpose::ForgotPassword, "s-1")).unwrap();
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(
                run(codes.check(CodePurpose::ForgotPassword, "s-1", &wrong(&code))),
                Err(Error::Api(ApiError::CodeMismatch))
            );
        }
        assert_eq!(
            run(codes.check(CodePurpose::ForgotPassword, "s-1", &code)),
            Err(Error::Api(ApiError::LimitExceeded))
        );
        // A new code starts a new count.
        let fresh = run(codes.issue(CodePurpose::ForgotPassword, "s-1")).unwrap();
        run(codes.check(CodePurpose::ForgotPassword, "s-1", &fresh)).unwrap();
    }

    #[test]
    fn a_holder_with_no_code_is_answered_and_counted_as_a_wrong_code() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let codes = Codes::new(&pool, &store, &keys, 1_000_000);
        for attempt in 1..=MAX_ATTEMPTS {
            let before = store.counts();
            assert_eq!(
                run(codes.check(CodePurpose::SignUp, "nobody", "123456")),
                Err(Error::Api(ApiError::CodeMismatch)),
                "attempt {attempt}"
            );
            let after = store.counts();
            assert_eq!(
                (after.0 - before.0, after.1 - before.1),
                (1, 1),
                "one read, one write"
            );
        }
        assert_eq!(
            run(codes.check(CodePurpose::SignUp, "nobody", "123456")),
            Err(Error::Api(ApiError::LimitExceeded))
        );
    }

    #[test]
    fn an_expired_code_is_refused_as_expired_even_when_right() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let code =
            run(Codes::new(&pool, &store, &keys, 1_000_000)
                .issue(CodePurpose::ForgotPassword, "s-1"))
            .unwrap();
        let later = Codes::new(&pool, &store, &keys, 1_000_000 + 3_600_000);
        assert_eq!(
            run(later.check(CodePurpose::ForgotPassword, "s-1", &code)),
            Err(Error::Api(ApiError::ExpiredCode))
        );
    }

    #[test]
    fn a_stored_code_is_sealed_and_readable_by_an_administrator() {
        let ((pool, keys), store) = (setup(), MemoryStore::new());
        let codes = Codes::new(&pool, &store, &keys, 1_000_000);
        let code = run(codes.issue(CodePurpose::VerifyEmail, "s-1")).unwrap();
        let key = "user/v1/us-east-1_Local1/code/VERIFY_EMAIL/s-1";
        let (stored, ttl) = store.peek(key).unwrap();
        assert!(
            !stored.contains(&code),
            "the code is not in KV in the clear"
        );
        assert!(ttl.unwrap() >= 86_400);
        let pending = run(codes.pending("s-1")).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].purpose, pending[0].code.as_str()),
            (CodePurpose::VerifyEmail, code.as_str())
        );
    }

    #[test]
    fn an_email_is_masked_as_cognito_masks_it() {
        assert_eq!(
            Delivery::email("alice@example.com").destination,
            "a***@e***"
        );
        assert_eq!(Delivery::email("zoë@bücher.de").destination, "z***@b***");
    }

    #[test]
    fn codes_are_spread_over_every_digit() {
        let mut seen = [false; 10];
        for _ in 0..200 {
            let code = random_code().unwrap();
            for b in code.bytes() {
                seen[usize::from(b - b'0')] = true;
            }
        }
        assert!(seen.iter().all(|s| *s));
    }
}
