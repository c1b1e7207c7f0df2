//! Local pools' passwords: a salted PBKDF2-HMAC-SHA256 hash, and Cognito's default policy.
//!
//! Stored as `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url), so the iteration count can
//! be raised for new passwords without breaking old ones. The default count is chosen so one
//! sign-in stays well inside a Worker's CPU budget: see README, "Local pools".
//!
//! The hash runs on the platform's crypto (`crypto::LocalPoolCrypto`: WebCrypto in a Worker).
//! workerd's WebCrypto runs PBKDF2 up to 100 000 iterations and refuses more; a pool cannot be
//! configured above that (`config::MAX_PASSWORD_ITERATIONS`), so every new hash runs natively. A
//! stored hash with more iterations (written when pools could ask up to 10 000 000) still
//! verifies: the port answers `Unsupported` and the hash runs in pure Rust instead (slower, the
//! same answer), and the next password set for the user gets the pool's count.

use core::cell::Cell;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::crypto::{local_pool_crypto, CryptoError};

/// Salt length, in bytes.
const SALT_BYTES: usize = 16;
/// Derived key length, in bytes.
const HASH_BYTES: usize = 32;
/// Hashes with fewer iterations than this are refused when read back (a tampered record).
const MIN_ITERATIONS: u32 = 1_000;
/// Hashes with more iterations than this are refused when read back (a CPU-exhaustion record).
const MAX_ITERATIONS: u32 = 10_000_000;

/// A password hash as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: [u8; SALT_BYTES],
    hash: [u8; HASH_BYTES],
}

impl core::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordHash")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    pub async fn new(password: &str, iterations: u32) -> Result<Self, String> {
        let mut salt = [0u8; SALT_BYTES];
        getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
        Self::with_salt(password, iterations, salt).await
    }

    async fn with_salt(
        password: &str,
        iterations: u32,
        salt: [u8; SALT_BYTES],
    ) -> Result<Self, String> {
        ITERATIONS_RUN.with(|run| run.set(run.get().saturating_add(u64::from(iterations))));
        let derived = local_pool_crypto()
            .pbkdf2_sha256(password.as_bytes(), &salt, iterations)
            .await;
        let hash = match derived {
            Ok(hash) => hash,
            // Above the platform's count (a hash stored before the cap): pure Rust, same answer.
            Err(CryptoError::Unsupported(_)) => {
                let mut hash = [0u8; HASH_BYTES];
                pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut hash);
                hash
            }
            Err(err) => return Err(format!("hashing a password: {err}")),
        };
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` matches `stored`; with no stored hash (an unknown user, or one without
    /// a password) it runs a hash of `iterations` all the same and answers no, so a sign-in
    /// costs the same whether or not the user exists.
    pub async fn verify_or_decoy(stored: Option<&Self>, password: &str, iterations: u32) -> bool {
        match stored {
            Some(hash) => hash.verify(password).await,
            None => {
                let decoy = Self {
                    iterations,
                    salt: [0; SALT_BYTES],
                    hash: [0; HASH_BYTES],
                };
                core::hint::black_box(decoy.verify(password).await);
                false
            }
        }
    }

    /// Whether `password` matches, compared in constant time. A platform that fails to hash
    /// answers no (fail closed).
    pub async fn verify(&self, password: &str) -> bool {
        match Self::with_salt(password, self.iterations, self.salt).await {
            Ok(candidate) => bool::from(candidate.hash.ct_eq(&self.hash)),
            Err(_) => false,
        }
    }

    /// The iteration count this hash was made with.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        format!(
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            URL_SAFE_NO_PAD.encode(self.salt),
            URL_SAFE_NO_PAD.encode(self.hash)
        )
    }

    /// Reads the stored form back; `None` if it is not one this code wrote.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let iterations: u32 = parts.next()?.parse().ok()?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return None;
        }
        let salt = URL_SAFE_NO_PAD
            .decode(parts.next()?)
            .ok()?
            .try_into()
            .ok()?;
        let hash = URL_SAFE_NO_PAD
            .decode(parts.next()?)
            .ok()?
            .try_into()
            .ok()?;
        parts.next().is_none().then_some(Self {
            iterations,
            salt,
            hash,
        })
    }
}

thread_local! {
    /// PBKDF2 iterations run on this thread (a Worker isolate has one).
    static ITERATIONS_RUN: Cell<u64> = const { Cell::new(0) };
}

/// How many PBKDF2 iterations this thread has run so far: lets tests prove that a sign-in does
/// the same hashing work for a user who exists and one who does not, without timing anything.
pub fn iterations_run_on_this_thread() -> u64 {
    ITERATIONS_RUN.with(Cell::get)
}

/// The symbols Cognito's policy counts (its documented special-character set).
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/// Cognito's default password policy: 8 characters, upper and lower case, a number and a
/// symbol. The error text is Cognito's InvalidPasswordException message.
pub fn check_policy(password: &str) -> Result<(), String> {
    let problem = if password.chars().count() < 8 {
        Some("Password not long enough")
    } else if !password.chars().any(char::is_lowercase) {
        Some("Password must have lowercase characters")
    } else if !password.chars().any(char::is_uppercase) {
        Some("Password must have uppercase characters")
    } else if !password.chars().any(|c| c.is_ascii_digit()) {
        Some("Password must have numeric characters")
    } else if !password.chars().any(|c| SYMBOLS.contains(c) || c == ' ') {
        Some("Password must have symbol characters")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!("Password did not conform with policy: {problem}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use pollster::block_on as wait;

    use super::*;

    fn decoy(stored: Option<&PasswordHash>, password: &str, iterations: u32) -> bool {
        wait(PasswordHash::verify_or_decoy(stored, password, iterations))
    }

    #[test]
    fn no_stored_hash_still_costs_one_hash_of_the_given_iterations_and_never_matches() {
        let hash = wait(PasswordHash::new("Correct-Horse-1", 2_000)).unwrap();
        let before = iterations_run_on_this_thread();
        assert!(decoy(Some(&hash), "Correct-Horse-1", 1_000));
        assert_eq!(
            iterations_run_on_this_thread() - before,
            2_000,
            "the stored count"
        );
        let before = iterations_run_on_this_thread();
        assert!(!decoy(None, "Correct-Horse-1", 1_000));
        assert!(!decoy(None, "", 1_000));
        assert_eq!(iterations_run_on_this_thread() - before, 2_000);
    }

    /// A FAKE of workerd's WebCrypto as far as PBKDF2 goes: RustCrypto's answer up to 100 000
    /// iterations, `Unsupported` above (workerd's `NotSupportedError`), counting what it ran.
    struct CappedPbkdf2;

    thread_local! {
        static PLATFORM_HASHES: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
    }

    impl crate::crypto::LocalPoolCrypto for CappedPbkdf2 {
        fn sign_rs256<'a>(
            &'a self,
            key: &'a crate::signing::SigningKey,
            message: &'a [u8],
        ) -> crate::ports::LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
            crate::crypto::RustCrypto.sign_rs256(key, message)
        }

        fn pbkdf2_sha256<'a>(
            &'a self,
            password: &'a [u8],
            salt: &'a [u8],
            iterations: u32,
        ) -> crate::ports::LocalFuture<'a, Result<[u8; 32], CryptoError>> {
            if iterations > crate::config::MAX_PASSWORD_ITERATIONS {
                return Box::pin(async move {
                    Err(CryptoError::Unsupported(format!(
                        "Pbkdf2 failed: iteration counts above 100000 are not supported (requested {iterations})"
                    )))
                });
            }
            PLATFORM_HASHES.with(|n| n.set(n.get() + 1));
            crate::crypto::RustCrypto.pbkdf2_sha256(password, salt, iterations)
        }

        fn seal<'a>(
            &'a self,
            key: &'a crate::signing::SigningKey,
            derivation: crate::crypto::SealKey<'a>,
            iv: &'a [u8; 12],
            plaintext: &'a [u8],
            aad: &'a [u8],
        ) -> crate::ports::LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
            crate::crypto::RustCrypto.seal(key, derivation, iv, plaintext, aad)
        }

        fn open<'a>(
            &'a self,
            key: &'a crate::signing::SigningKey,
            derivation: crate::crypto::SealKey<'a>,
            iv: &'a [u8; 12],
            sealed: &'a [u8],
            aad: &'a [u8],
        ) -> crate::ports::LocalFuture<'a, Option<Vec<u8>>> {
            crate::crypto::RustCrypto.open(key, derivation, iv, sealed, aad)
        }
    }

    #[test]
    fn a_stored_hash_above_workerds_cap_still_verifies_in_pure_rust() {
        // Written when pools could ask for more, by a platform without the cap.
        let old = wait(PasswordHash::new("Correct-Horse-1", 150_000)).unwrap();
        let stored = PasswordHash::decode(&old.encode()).unwrap();
        crate::crypto::install_local_pool_crypto(&CappedPbkdf2);
        assert!(wait(stored.verify("Correct-Horse-1")));
        assert!(!wait(stored.verify("Correct-Horse-2")));
        assert_eq!(
            PLATFORM_HASHES.with(core::cell::Cell::get),
            0,
            "the platform refused both; pure Rust ran them"
        );
        // At the cap, the platform runs it.
        let at_cap = wait(PasswordHash::new("Correct-Horse-1", 100_000)).unwrap();
        assert!(wait(at_cap.verify("Correct-Horse-1")));
        assert_eq!(PLATFORM_HASHES.with(core::cell::Cell::get), 2);
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = wait(PasswordHash::new("Correct-Horse-1", 1_000)).unwrap();
        assert!(wait(hash.verify("Correct-Horse-1")));
        assert!(!wait(hash.verify("Correct-Horse-2")));
        assert!(!wait(hash.verify("")));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let a = wait(PasswordHash::new("Correct-Horse-1", 1_000)).unwrap();
        let b = wait(PasswordHash::new("Correct-Horse-1", 1_000)).unwrap();
        assert_ne!(a.encode(), b.encode());
    }

    #[test]
    fn the_stored_form_round_trips_and_refuses_tampering() {
        let hash = wait(PasswordHash::new("Correct-Horse-1", 1_000)).unwrap();
        let decoded = PasswordHash::decode(&hash.encode()).unwrap();
        assert!(wait(decoded.verify("Correct-Horse-1")));
        assert!(PasswordHash::decode("pbkdf2-sha256$1$AAAA$AAAA").is_none());
        assert!(PasswordHash::decode(&hash.encode().replace("1000", "999999999")).is_none());
        assert!(PasswordHash::decode("bcrypt$x").is_none());
        assert!(PasswordHash::decode(&format!("{}$extra", hash.encode())).is_none());
    }

    #[test]
    fn pbkdf2_matches_the_rfc_7914_test_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64 (first 32 bytes).
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            hex::encode(out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn the_policy_speaks_cognitos_words() {
        assert_eq!(
            check_policy("Ab1!").unwrap_err(),
            "Password did not conform with policy: Password not long enough"
        );
        assert!(check_policy("abcdefg1!")
            .unwrap_err()
            .ends_with("uppercase characters"));
        assert!(check_policy("ABCDEFG1!")
            .unwrap_err()
            .ends_with("lowercase characters"));
        assert!(check_policy("Abcdefgh!")
            .unwrap_err()
            .ends_with("numeric characters"));
        assert!(check_policy("Abcdefgh1")
            .unwrap_err()
            .ends_with("symbol characters"));
        assert!(check_policy("Correct-Horse-1").is_ok());
    }
}
