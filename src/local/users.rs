//! Local pools' users, in KV.
//!
//! # KV layout (`REVOCATIONS` namespace)
//! - `user/v1/<pool>/sub/<sub>` → the user record (JSON)
//! - `user/v1/<pool>/name/<username>` → sub
//! - `user/v1/<pool>/email/<email>` → sub, once the user is confirmed: a user who signed up
//!   and has not confirmed holds their username but not their email, as in Cognito, where an
//!   alias is claimed at confirmation (and an unverified new email at verification)
//!
//! Names are keyed in the pool's canonical spelling (`crate::identity`): usernames NFC and case
//! folded unless the pool sets `username_case_sensitive`, emails always NFC and case folded.
//! Indexes written before that were keyed by the plain lower case of the name; a lookup reads
//! that spelling too where it differs (in the same bulk read), so those users stay reachable.
//!
//! A user is found by username, email or sub in one bulk read, then the record in a second. The
//! second read happens whether or not the first found anyone (an unknown name reads a key that
//! never exists), so a sign-in does the same KV work for a user who exists and one who does not.
//! Writes are ordered so
//! a failure never leaves a reachable half-made user: on create the record goes first and the
//! indexes after (an index that fails is rolled back with the record); on delete the record goes
//! first, and an index left behind points at nothing, which reads as "no such user".

use serde_json::{json, Map, Value};

use crate::{
    config::Pool,
    error::{ApiError, Error, StoreError},
    identity::{key_component, CaseRule, UserId, HASHED_PREFIX},
    local::{password::PasswordHash, srp::Verifier},
    ports::Store,
    signing::SigningKeys,
};

/// A user's account state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Signed up and not yet confirmed (ConfirmSignUp or AdminConfirmSignUp).
    Unconfirmed,
    /// Created with a temporary password; must choose a new one at first sign-in.
    ForceChangePassword,
    /// Has a permanent password.
    Confirmed,
}

impl UserStatus {
    /// Cognito's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::Confirmed => "CONFIRMED",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "UNCONFIRMED" => Some(UserStatus::Unconfirmed),
            "FORCE_CHANGE_PASSWORD" => Some(UserStatus::ForceChangePassword),
            "CONFIRMED" => Some(UserStatus::Confirmed),
            _ => None,
        }
    }
}

/// A user of a local pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The immutable id (UUID v4).
    pub sub: String,
    /// The username as created.
    pub username: String,
    /// Attributes other than `sub`, in the order given.
    pub attributes: Vec<(String, String)>,
    /// Account state.
    pub status: UserStatus,
    /// Whether the user may sign in.
    pub enabled: bool,
    /// The password hash.
    pub password: Option<PasswordHash>,
    /// The SRP salt and verifier for the same password, sealed (`local::srp`, "The verifier at
    /// rest"); `None` for a password set before SRP sign-in existed.
    pub srp_verifier: Option<String>,
    /// When created, ms.
    pub created_ms: u64,
    /// When last changed, ms.
    pub modified_ms: u64,
}

impl User {
    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The email alias, if the user has one.
    pub fn email(&self) -> Option<&str> {
        self.attribute("email")
    }

    /// Sets or replaces an attribute, keeping its place in the order.
    pub fn set_attribute(&mut self, name: &str, value: &str) {
        match self.attributes.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_owned(),
            None => self.attributes.push((name.to_owned(), value.to_owned())),
        }
    }

    /// Removes an attribute.
    pub fn remove_attribute(&mut self, name: &str) {
        self.attributes.retain(|(n, _)| n != name);
    }

    /// Sets the password: the PBKDF2 hash with `iterations`, and beside it the SRP verifier,
    /// sealed with the current signing key. Every path that sets a password comes here, so SRP
    /// sign-in works for every password. The verifier is bound to the user's `sub` (the
    /// immutable id SRP sign-in answers as USER_ID_FOR_SRP).
    pub fn set_password(
        &mut self,
        pool_id: &str,
        keys: &SigningKeys,
        password: &str,
        iterations: u32,
    ) -> Result<(), Error> {
        let hash = PasswordHash::new(password, iterations).map_err(Error::Internal)?;
        let verifier = Verifier::generate(pool_id, &self.sub, password)?.seal(keys)?;
        self.password = Some(hash);
        self.srp_verifier = Some(verifier);
        Ok(())
    }

    /// `UserAttributes` as Cognito answers it: `sub` first.
    pub fn attributes_json(&self) -> Value {
        let mut list = vec![json!({"Name": "sub", "Value": self.sub})];
        list.extend(
            self.attributes
                .iter()
                .map(|(name, value)| json!({"Name": name, "Value": value})),
        );
        Value::Array(list)
    }

    /// The user as Cognito answers it. `attributes_key` is `Attributes` in `UserType`
    /// (AdminCreateUser) and `UserAttributes` in AdminGetUser's output: the same fields otherwise.
    pub fn to_cognito(&self, attributes_key: &str) -> Value {
        let mut user = json!({
            "Username": self.username,
            "UserCreateDate": self.created_ms as f64 / 1000.0,
            "UserLastModifiedDate": self.modified_ms as f64 / 1000.0,
            "Enabled": self.enabled,
            "UserStatus": self.status.as_str(),
        });
        user[attributes_key] = self.attributes_json();
        user
    }

    fn to_json(&self) -> String {
        let attributes: Map<String, Value> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect();
        json!({
            "v": 1,
            "sub": self.sub,
            "username": self.username,
            "attributes": attributes,
            "attribute_order": self.attributes.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            "status": self.status.as_str(),
            "enabled": self.enabled,
            "password": self.password.as_ref().map(PasswordHash::encode),
            "srp": self.srp_verifier,
            "created": self.created_ms,
            "modified": self.modified_ms,
        })
        .to_string()
    }

    fn parse(key: &str, text: &str) -> Result<Self, StoreError> {
        let corrupt = || {
            StoreError::Corrupt(format!(
                "{}: not a user record",
                crate::ports::key_for_log(key)
            ))
        };
        let record = crate::json::parse_object(text.as_bytes()).map_err(|_| corrupt())?;
        let string = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
        let values = record
            .get("attributes")
            .and_then(Value::as_object)
            .ok_or_else(corrupt)?;
        let order = record
            .get("attribute_order")
            .and_then(Value::as_array)
            .ok_or_else(corrupt)?;
        let attributes = order
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|name| {
                let value = values.get(name)?.as_str()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        let password = match record.get("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(PasswordHash::decode(text).ok_or_else(corrupt)?),
            Some(_) => return Err(corrupt()),
        };
        let srp_verifier = match record.get("srp") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return Err(corrupt()),
        };
        Ok(Self {
            sub: string("sub").ok_or_else(corrupt)?,
            username: string("username").ok_or_else(corrupt)?,
            attributes,
            status: string("status")
                .as_deref()
                .and_then(UserStatus::parse)
                .ok_or_else(corrupt)?,
            enabled: record
                .get("enabled")
                .and_then(Value::as_bool)
                .ok_or_else(corrupt)?,
            password,
            srp_verifier,
            created_ms: record.get("created").and_then(Value::as_u64).unwrap_or(0),
            modified_ms: record.get("modified").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

/// A local pool's user directory.
pub struct Directory<'a> {
    pool: &'a Pool,
    store: &'a dyn Store,
    now_ms: u64,
}

impl<'a> Directory<'a> {
    /// The directory of `pool`.
    pub fn new(pool: &'a Pool, store: &'a dyn Store, now_ms: u64) -> Self {
        Self {
            pool,
            store,
            now_ms,
        }
    }

    fn record_key(&self, sub: &str) -> String {
        format!("user/v1/{}/sub/{}", self.pool.id, key_component(sub))
    }

    /// The index keys of `name` as a username (`kind` "name") or an email ("email"): the
    /// canonical one first, then the plain lower-case one written before names were spelled
    /// canonically, where it differs (and cannot be mistaken for a hashed key).
    fn index_keys(&self, kind: &str, name: &str) -> Vec<String> {
        let case = match kind {
            "name" => self.pool.username_case,
            _ => CaseRule::Insensitive,
        };
        let key = |id: &str| format!("user/v1/{}/{kind}/{}", self.pool.id, key_component(id));
        let canonical = key(UserId::new(name, case).as_str());
        let lower = name.to_lowercase();
        let legacy = key(&lower);
        if legacy == canonical || lower.starts_with(HASHED_PREFIX) {
            vec![canonical]
        } else {
            vec![canonical, legacy]
        }
    }

    /// Every index key of `user` (as [`Self::index_keys`]), each with what it indexes.
    fn user_index_keys(&self, user: &User) -> Vec<(String, &'static str)> {
        let mut keys: Vec<(String, &'static str)> = self
            .index_keys("name", &user.username)
            .into_iter()
            .map(|k| (k, "username"))
            .collect();
        if let Some(email) = user.email() {
            keys.extend(
                self.index_keys("email", email)
                    .into_iter()
                    .map(|k| (k, "email")),
            );
        }
        keys
    }

    /// The user whose username, email or sub is `name`: two KV reads, always (see the module doc).
    pub async fn find(&self, name: &str) -> Result<Option<User>, Error> {
        let mut keys = vec![self.record_key(self.pool.user_id(name).as_str())];
        keys.extend(self.index_keys("name", name));
        keys.extend(self.index_keys("email", name));
        let found = self.store.get_many(&keys, None).await?;
        if found.len() != keys.len() {
            return Err(StoreError::Read("bulk read answered the wrong count".into()).into());
        }
        let mut found = found.into_iter();
        let by_sub = found.next().flatten();
        // The first index that answers wins: names before emails, canonical before old.
        let indexed_sub = found.flatten().next();
        let (record_key, record) = match (by_sub, indexed_sub) {
            (Some(text), _) => {
                self.read_nothing().await?;
                (keys.swap_remove(0), Some(text))
            }
            (None, Some(sub)) => {
                let key = self.record_key(&sub);
                let record = crate::ports::get_one(self.store, &key, None).await?;
                (key, record)
            }
            (None, None) => {
                self.read_nothing().await?;
                return Ok(None);
            }
        };
        match record {
            Some(text) => Ok(Some(User::parse(&record_key, &text)?)),
            None => Ok(None),
        }
    }

    /// Reads a key that never exists, so that finding nobody costs the KV work of finding
    /// someone. (A sub is never empty, so no record has this key.)
    async fn read_nothing(&self) -> Result<(), Error> {
        crate::ports::get_one(self.store, &self.record_key(""), None).await?;
        Ok(())
    }

    /// The user with this sub.
    pub async fn find_by_sub(&self, sub: &str) -> Result<Option<User>, Error> {
        let key = self.record_key(sub);
        match crate::ports::get_one(self.store, &key, None).await? {
            Some(text) => Ok(Some(User::parse(&key, &text)?)),
            None => Ok(None),
        }
    }

    /// Creates `user`, refusing a username or email already taken. An unconfirmed user, or one
    /// whose email is marked unverified (SignUp), claims the username only; the email is claimed
    /// once verified ([`Self::claim_verified_email`]).
    pub async fn create(&self, user: &User) -> Result<(), Error> {
        let mut index = self.user_index_keys(user);
        let claims_email = user.status != UserStatus::Unconfirmed
            && user.attribute("email_verified") != Some("false");
        if !claims_email {
            index.retain(|(_, what)| *what != "email");
        }
        let keys: Vec<String> = index.iter().map(|(k, _)| k.clone()).collect();
        let taken = self.store.get_many(&keys, None).await?;
        for ((_, what), sub) in index.iter().zip(taken) {
            // An index pointing at a deleted user is free again.
            if let Some(sub) = sub {
                if self.find_by_sub(&sub).await?.is_some() {
                    return Err(match *what {
                        "email" => ApiError::AliasExists.into(),
                        _ => ApiError::UsernameExists.into(),
                    });
                }
            }
        }
        self.save(user).await?;
        // Only canonical keys are written; old spellings are read, never made.
        let canonical = self
            .index_keys("name", &user.username)
            .into_iter()
            .take(1)
            .chain(
                user.email()
                    .filter(|_| claims_email)
                    .map(|email| self.index_keys("email", email).into_iter().take(1))
                    .into_iter()
                    .flatten(),
            );
        for key in canonical {
            if let Err(err) = self.store.put(&key, &user.sub, None).await {
                // Roll back: the record alone is unreachable, but remove it too.
                let _ = self.store.delete(&self.record_key(&user.sub)).await;
                return Err(err.into());
            }
        }
        Ok(())
    }

    /// Makes `user`'s email an alias that signs in, once it is verified (`email_verified` is
    /// `true`; otherwise nothing happens): refused with AliasExistsException when another
    /// existing user holds it (an index left by a deleted user is free again).
    pub async fn claim_verified_email(&self, user: &User) -> Result<(), Error> {
        let Some(email) = user.email() else {
            return Ok(());
        };
        if user.attribute("email_verified") != Some("true") {
            return Ok(());
        }
        let keys = self.index_keys("email", email);
        let taken = self.store.get_many(&keys, None).await?;
        for sub in taken.into_iter().flatten() {
            if sub != user.sub && self.find_by_sub(&sub).await?.is_some() {
                return Err(ApiError::AliasExists.into());
            }
        }
        if let Some(key) = keys.first() {
            self.store.put(key, &user.sub, None).await?;
        }
        Ok(())
    }

    /// Stops `email` signing in as `user` (an email changed and not yet verified): the index
    /// is deleted where it points at this user.
    pub async fn release_email(&self, user: &User, email: &str) -> Result<(), Error> {
        let keys = self.index_keys("email", email);
        let held = self.store.get_many(&keys, None).await?;
        for (key, sub) in keys.iter().zip(held) {
            if sub.as_deref() == Some(user.sub.as_str()) {
                self.store.delete(key).await?;
            }
        }
        Ok(())
    }

    /// Writes the record of an existing user.
    pub async fn save(&self, user: &User) -> Result<(), Error> {
        let mut user = user.clone();
        user.modified_ms = self.now_ms;
        self.store
            .put(&self.record_key(&user.sub), &user.to_json(), None)
            .await
            .map_err(Error::from)
    }

    /// Deletes the user: the record first, then the indexes that point at them (best effort,
    /// see the module doc). An index held by someone else (an email an unconfirmed user also
    /// gave) is left alone.
    pub async fn delete(&self, user: &User, log: &dyn Fn(&str)) -> Result<(), Error> {
        self.store.delete(&self.record_key(&user.sub)).await?;
        let index = self.user_index_keys(user);
        let keys: Vec<String> = index.iter().map(|(k, _)| k.clone()).collect();
        let held = match self.store.get_many(&keys, None).await {
            Ok(held) => held,
            Err(err) => {
                log(&format!(
                    "user {} deleted; its indexes were left (unreadable): {err}",
                    user.sub
                ));
                return Ok(());
            }
        };
        for ((key, what), sub) in index.iter().zip(held) {
            if sub.as_deref() != Some(user.sub.as_str()) {
                continue;
            }
            if let Err(err) = self.store.delete(key).await {
                // The key holds the name or email: log only what it indexes.
                log(&format!(
                    "user {} deleted; a stale {what} index was left: {err}",
                    user.sub
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, ports::MemoryStore};

    fn pool() -> Pool {
        let mut vars = Map::new();
        vars.insert(
            "POOLS".into(),
            json!([{"id":"us-east-1_Local1","local":{},"issuer":"http://127.0.0.1:8787/us-east-1_Local1","clients":[{"id":"c"}]}]),
        );
        vars.insert(
            "SIGNING_KEYS".into(),
            crate::signing::test_keys::signing_keys_json(),
        );
        Config::from_env(&vars).unwrap().pools.remove(0)
    }

    fn user(sub: &str, username: &str, email: &str) -> User {
        User {
            sub: sub.into(),
            username: username.into(),
            attributes: vec![("email".into(), email.into())],
            status: UserStatus::Confirmed,
            enabled: true,
            password: Some(PasswordHash::new("Correct-Horse-1", 1_000).unwrap()),
            srp_verifier: None,
            created_ms: 1,
            modified_ms: 1,
        }
    }

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    #[test]
    fn a_user_is_found_by_username_email_or_sub() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        run(dir.create(&user("s-1", "Alice", "Alice@Example.com"))).unwrap();
        for name in ["Alice", "alice", "alice@example.com", "s-1"] {
            let found = run(dir.find(name)).unwrap().unwrap();
            assert_eq!(found.sub, "s-1", "{name}");
            assert!(found.password.as_ref().unwrap().verify("Correct-Horse-1"));
        }
        assert!(run(dir.find("bob")).unwrap().is_none());
    }

    #[test]
    fn a_user_is_found_by_any_case_or_unicode_form_of_their_name_or_email() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        run(dir.create(&user("s-1", "Ren\u{e9}e", "Ren\u{e9}e@Example.com"))).unwrap();
        for name in [
            "ren\u{e9}e",
            "RENE\u{301}E",
            "rene\u{301}e@example.COM",
            "REN\u{c9}E@EXAMPLE.COM",
            "S-1",
        ] {
            assert_eq!(
                run(dir.find(name)).unwrap().map(|u| u.sub),
                Some("s-1".into()),
                "{name:?}"
            );
        }
        assert!(
            run(dir.find("renee")).unwrap().is_none(),
            "an accent is not case"
        );
    }

    #[test]
    fn a_user_indexed_under_the_old_lower_case_spelling_is_still_found() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        let old = user("s-1", "Stra\u{df}e", "x@example.com");
        run(dir.save(&old)).unwrap();
        // As an earlier version indexed it: the plain lower case, where folding gives "strasse".
        store.seed("user/v1/us-east-1_Local1/name/stra\u{df}e", "s-1");
        assert_eq!(
            run(dir.find("STRA\u{df}E")).unwrap().map(|u| u.sub),
            Some("s-1".into())
        );
        // Deleting removes both spellings.
        run(dir.delete(&old, &|_| {})).unwrap();
        assert!(
            store.keys().iter().all(|k| !k.contains("/name/")),
            "{:?}",
            store.keys()
        );
    }

    #[test]
    fn finding_nobody_reads_kv_as_often_as_finding_someone() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        run(dir.create(&user("s-1", "alice", "a@example.com"))).unwrap();
        for name in ["alice", "a@example.com", "s-1", "mallory", "m@example.com"] {
            let before = store.counts().0;
            run(dir.find(name)).unwrap();
            assert_eq!(store.counts().0 - before, 2, "{name}");
        }
    }

    #[test]
    fn a_corrupt_record_is_reported_without_the_name_or_email_in_its_key() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        store.seed(
            "user/v1/us-east-1_Local1/email/alice@example.com",
            "alice@example.com",
        );
        store.seed("user/v1/us-east-1_Local1/sub/alice@example.com", "garbage");
        let err = run(dir.find("alice@example.com")).unwrap_err().to_string();
        assert!(err.contains("not a user record"), "{err}");
        assert!(!err.contains("alice"), "{err}");
    }

    #[test]
    fn a_taken_username_or_email_is_refused() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        run(dir.create(&user("s-1", "alice", "a@example.com"))).unwrap();
        assert!(matches!(
            run(dir.create(&user("s-2", "ALICE", "b@example.com"))),
            Err(Error::Api(ApiError::UsernameExists))
        ));
        assert!(matches!(
            run(dir.create(&user("s-3", "carol", "A@example.com"))),
            Err(Error::Api(ApiError::AliasExists))
        ));
    }

    #[test]
    fn a_deleted_user_is_gone_and_its_name_is_free_again() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        let alice = user("s-1", "alice", "a@example.com");
        run(dir.create(&alice)).unwrap();
        run(dir.delete(&alice, &|_| {})).unwrap();
        assert!(run(dir.find("alice")).unwrap().is_none());
        run(dir.create(&user("s-2", "alice", "a@example.com"))).unwrap();
        assert_eq!(run(dir.find("alice")).unwrap().unwrap().sub, "s-2");
    }

    #[test]
    fn a_failed_create_leaves_no_reachable_user() {
        let (pool, store) = (pool(), MemoryStore::new());
        let dir = Directory::new(&pool, &store, 10);
        store.fail_writes(true);
        assert!(run(dir.create(&user("s-1", "alice", "a@example.com"))).is_err());
        store.fail_writes(false);
        assert!(store.keys().is_empty());
    }

    #[test]
    fn a_record_round_trips_with_attribute_order() {
        let mut alice = user("s-1", "alice", "a@example.com");
        alice
            .attributes
            .push(("email_verified".into(), "true".into()));
        alice.attributes.push(("custom:team".into(), "blue".into()));
        let parsed = User::parse("k", &alice.to_json()).unwrap();
        assert_eq!(parsed, alice);
        assert_eq!(
            parsed.attributes_json(),
            json!([{"Name":"sub","Value":"s-1"},{"Name":"email","Value":"a@example.com"},
                   {"Name":"email_verified","Value":"true"},{"Name":"custom:team","Value":"blue"}])
        );
    }
}
