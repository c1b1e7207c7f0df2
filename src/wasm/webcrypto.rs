//! WebCrypto (`crypto.subtle`), the platform's native crypto (BoringSSL in workerd): the
//! signature backend for every algorithm, and local pools' RS256 signing, PBKDF2, HKDF and
//! AES-256-GCM. The same code serves the Worker and the browser build.
//!
//! Each key is imported once per isolate and the `CryptoKey` kept in the key's own slot
//! (`jwk::BackendSlot`), so it lives exactly as long as the key set that holds the key. Keys are
//! imported from the bytes the Rust loader checked (never from the JWK as received), and
//! `crypto::signature_fits` runs before every verification. Any rejection is `false` or an
//! error, never a panic.

use core::cell::RefCell;
use std::{collections::BTreeMap, rc::Rc};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::bindings::{SubtleCrypto, SUBTLE};
use crate::{
    alg::Alg,
    crypto::{signature_fits, AsyncSignatureVerifier, CryptoError, LocalPoolCrypto, SealKey},
    jwk::{KeyMaterial, VerifyingKey},
    ports::LocalFuture,
    signing::SigningKey,
};

/// The WebCrypto backend: a unit value, since its state lives with the keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCrypto;

/// `crypto.subtle`, or why there is none (a browser page that is not a secure context).
fn subtle() -> Result<SubtleCrypto, CryptoError> {
    SUBTLE
        .with(Clone::clone)
        .ok_or_else(|| CryptoError::Failed("crypto.subtle is not available here".into()))
}

/// A JS object with these members.
fn object(members: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in members {
        // Setting a member of a fresh plain object cannot throw.
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object.into()
}

fn usages(names: &[&str]) -> Array {
    names.iter().map(|name| JsValue::from_str(name)).collect()
}

/// A copy of `bytes` as a JS `Uint8Array` (WebCrypto reads its arguments when called, but a
/// copy keeps wasm memory out of reach of anything that runs later).
fn bytes(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}

/// The bytes of an `ArrayBuffer` a WebCrypto promise resolved to.
fn buffer_bytes(value: &JsValue) -> Vec<u8> {
    Uint8Array::new(value).to_vec()
}

/// A rejected call or promise as a [`CryptoError`]: `NotSupportedError` (workerd's answer to
/// PBKDF2 above its count) is `Unsupported`, anything else `Failed`.
fn failure(err: &JsValue) -> CryptoError {
    let field = |name: &str| {
        Reflect::get(err, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let (name, message) = (field("name"), field("message"));
    if name == "NotSupportedError" {
        CryptoError::Unsupported(message)
    } else {
        CryptoError::Failed(format!("{name}: {message}"))
    }
}

/// Awaits a WebCrypto call.
async fn call(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, CryptoError> {
    let promise = promise.map_err(|e| failure(&e))?;
    JsFuture::from(promise).await.map_err(|e| failure(&e))
}

// -------------------------------------------------------------------------------------------
// Verification

/// A verification key as WebCrypto holds it, in the key's slot: `None` when WebCrypto refused to
/// import it (the answer for that key is then always `false`; keys do not change).
struct Imported(Option<JsValue>);

thread_local! {
    /// The algorithm objects of each `Alg`, made once per isolate (they are never mutated).
    static ALGORITHMS: RefCell<Vec<(Alg, JsValue, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// How WebCrypto names `alg`: the import algorithm and the verify algorithm.
fn algorithms(alg: Alg) -> (JsValue, JsValue) {
    let cached = ALGORITHMS.with(|cache| {
        let cache = cache.try_borrow().ok()?;
        let (_, import_as, verify_as) = cache.iter().find(|(a, _, _)| *a == alg)?;
        Some((import_as.clone(), verify_as.clone()))
    });
    if let Some(pair) = cached {
        return pair;
    }
    let (import_as, verify_as) = make_algorithms(alg);
    ALGORITHMS.with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            cache.push((alg, import_as.clone(), verify_as.clone()));
        }
    });
    (import_as, verify_as)
}

fn make_algorithms(alg: Alg) -> (JsValue, JsValue) {
    let name = |name: &str| ("name", JsValue::from_str(name));
    let hash = |hash: &str| ("hash", JsValue::from_str(hash));
    let salt = |bytes: u32| ("saltLength", JsValue::from(bytes));
    match alg {
        Alg::Rs256 | Alg::Rs384 | Alg::Rs512 => {
            let digest = match alg {
                Alg::Rs384 => "SHA-384",
                Alg::Rs512 => "SHA-512",
                _ => "SHA-256",
            };
            (
                object(&[name("RSASSA-PKCS1-v1_5"), hash(digest)]),
                object(&[name("RSASSA-PKCS1-v1_5")]),
            )
        }
        // RFC 7518 §3.5: MGF1 with the same hash, and a salt as long as the hash.
        Alg::Ps256 => (
            object(&[name("RSA-PSS"), hash("SHA-256")]),
            object(&[name("RSA-PSS"), salt(32)]),
        ),
        Alg::Ps384 => (
            object(&[name("RSA-PSS"), hash("SHA-384")]),
            object(&[name("RSA-PSS"), salt(48)]),
        ),
        Alg::Ps512 => (
            object(&[name("RSA-PSS"), hash("SHA-512")]),
            object(&[name("RSA-PSS"), salt(64)]),
        ),
        Alg::Es256 => (
            object(&[name("ECDSA"), ("namedCurve", JsValue::from_str("P-256"))]),
            object(&[name("ECDSA"), hash("SHA-256")]),
        ),
        Alg::EdDsa => (object(&[name("Ed25519")]), object(&[name("Ed25519")])),
        Alg::Hs256 => (
            object(&[name("HMAC"), hash("SHA-256")]),
            object(&[name("HMAC")]),
        ),
    }
}

/// Imports a verification key from the material the Rust loader checked.
async fn import_verifying_key(key: &VerifyingKey) -> Result<JsValue, CryptoError> {
    let subtle = subtle()?;
    let (import_as, _) = algorithms(key.alg());
    let encode = |bytes: &[u8]| JsValue::from_str(&URL_SAFE_NO_PAD.encode(bytes));
    let (format, data): (&str, JsValue) = match key.material() {
        KeyMaterial::Rsa(public) => (
            "jwk",
            object(&[
                ("kty", JsValue::from_str("RSA")),
                ("n", encode(public.modulus())),
                ("e", encode(public.exponent())),
            ]),
        ),
        KeyMaterial::P256(public) => ("raw", bytes(&public.sec1()).into()),
        KeyMaterial::Ed25519(public) => ("raw", bytes(public).into()),
        KeyMaterial::Hmac(secret) => ("raw", bytes(secret.as_ref()).into()),
    };
    call(subtle.import_key(format, &data, &import_as, false, &usages(&["verify"]))).await
}

/// The key's `CryptoKey`, imported at first use and kept in its slot.
async fn verifying_key(key: &VerifyingKey) -> Option<JsValue> {
    if let Some(imported) = key.slot().get::<Imported>() {
        return imported.0.clone();
    }
    let imported = import_verifying_key(key).await.ok();
    key.slot().set(Rc::new(Imported(imported.clone())));
    imported
}

impl AsyncSignatureVerifier for WebCrypto {
    fn verify_async<'a>(
        &'a self,
        key: &'a VerifyingKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, bool> {
        Box::pin(async move {
            // Our rules first: WebCrypto only ever sees what they let through.
            if !signature_fits(key, signature) {
                return false;
            }
            let (Ok(subtle), Some(crypto_key)) = (subtle(), verifying_key(key).await) else {
                return false;
            };
            let (_, verify_as) = algorithms(key.alg());
            let verdict =
                call(subtle.verify(&verify_as, &crypto_key, &bytes(signature), &bytes(message)))
                    .await;
            matches!(verdict, Ok(value) if value.as_bool() == Some(true))
        })
    }
}

// -------------------------------------------------------------------------------------------
// Local pools

/// What a signing key's slot holds: its signing `CryptoKey` and the sealing keys derived from
/// it, each made at first use.
#[derive(Default)]
struct SigningImports {
    sign: RefCell<Option<JsValue>>,
    seal: RefCell<BTreeMap<String, JsValue>>,
}

fn signing_imports(key: &SigningKey) -> Rc<SigningImports> {
    if let Some(imports) = key.slot().get::<SigningImports>() {
        return imports;
    }
    let imports = Rc::new(SigningImports::default());
    key.slot().set(imports.clone());
    imports
}

fn rs256() -> JsValue {
    object(&[
        ("name", JsValue::from_str("RSASSA-PKCS1-v1_5")),
        ("hash", JsValue::from_str("SHA-256")),
    ])
}

async fn signing_key(key: &SigningKey) -> Result<JsValue, CryptoError> {
    let imports = signing_imports(key);
    if let Some(crypto_key) = imports.sign.try_borrow().ok().and_then(|k| k.clone()) {
        return Ok(crypto_key);
    }
    let jwk = object(
        &key.private_jwk()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), JsValue::from_str(value.as_str()?))))
            .collect::<Vec<_>>(),
    );
    let crypto_key = call(subtle()?.import_key("jwk", &jwk, &rs256(), false, &usages(&["sign"])))
        .await
        .map_err(|err| CryptoError::Failed(format!("SIGNING_KEYS `{}`: {err}", key.kid())))?;
    if let Ok(mut slot) = imports.sign.try_borrow_mut() {
        *slot = Some(crypto_key.clone());
    }
    Ok(crypto_key)
}

/// The AES-256-GCM key `derivation` makes from `key` (HKDF-SHA256 over its private exponent).
async fn sealing_key(key: &SigningKey, derivation: SealKey<'_>) -> Result<JsValue, CryptoError> {
    let imports = signing_imports(key);
    let cached = imports
        .seal
        .try_borrow()
        .ok()
        .and_then(|keys| keys.get(derivation.info).cloned());
    if let Some(crypto_key) = cached {
        return Ok(crypto_key);
    }
    let subtle = subtle()?;
    let hkdf = JsValue::from_str("HKDF");
    let base = call(subtle.import_key(
        "raw",
        &bytes(key.private_exponent()).into(),
        &hkdf,
        false,
        &usages(&["deriveKey"]),
    ))
    .await?;
    let params = object(&[
        ("name", hkdf),
        ("hash", JsValue::from_str("SHA-256")),
        ("salt", bytes(derivation.salt).into()),
        ("info", bytes(derivation.info.as_bytes()).into()),
    ]);
    let aes = object(&[
        ("name", JsValue::from_str("AES-GCM")),
        ("length", JsValue::from(256)),
    ]);
    let crypto_key = call(subtle.derive_key(
        &params,
        &base,
        &aes,
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await?;
    if let Ok(mut keys) = imports.seal.try_borrow_mut() {
        keys.insert(derivation.info.to_owned(), crypto_key.clone());
    }
    Ok(crypto_key)
}

fn aes_gcm(iv: &[u8; 12], aad: &[u8]) -> JsValue {
    object(&[
        ("name", JsValue::from_str("AES-GCM")),
        ("iv", bytes(iv).into()),
        ("additionalData", bytes(aad).into()),
        ("tagLength", JsValue::from(128)),
    ])
}

impl LocalPoolCrypto for WebCrypto {
    fn sign_rs256<'a>(
        &'a self,
        key: &'a SigningKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            let crypto_key = signing_key(key).await?;
            let signature = call(subtle()?.sign(&rs256(), &crypto_key, &bytes(message))).await?;
            Ok(buffer_bytes(&signature))
        })
    }

    fn pbkdf2_sha256<'a>(
        &'a self,
        password: &'a [u8],
        salt: &'a [u8],
        iterations: u32,
    ) -> LocalFuture<'a, Result<[u8; 32], CryptoError>> {
        Box::pin(async move {
            let subtle = subtle()?;
            let pbkdf2 = JsValue::from_str("PBKDF2");
            let base = call(subtle.import_key(
                "raw",
                &bytes(password).into(),
                &pbkdf2,
                false,
                &usages(&["deriveBits"]),
            ))
            .await?;
            let params = object(&[
                ("name", pbkdf2),
                ("hash", JsValue::from_str("SHA-256")),
                ("salt", bytes(salt).into()),
                ("iterations", JsValue::from(iterations)),
            ]);
            let derived = call(subtle.derive_bits(&params, &base, 256)).await?;
            buffer_bytes(&derived)
                .try_into()
                .map_err(|_| CryptoError::Failed("PBKDF2 answered the wrong length".into()))
        })
    }

    fn seal<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        plaintext: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            let crypto_key = sealing_key(key, derivation).await?;
            let sealed =
                call(subtle()?.encrypt(&aes_gcm(iv, aad), &crypto_key, &bytes(plaintext))).await?;
            Ok(buffer_bytes(&sealed))
        })
    }

    fn open<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        sealed: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let crypto_key = sealing_key(key, derivation).await.ok()?;
            let subtle = subtle().ok()?;
            let plaintext = call(subtle.decrypt(&aes_gcm(iv, aad), &crypto_key, &bytes(sealed)))
                .await
                .ok()?;
            Some(buffer_bytes(&plaintext))
        })
    }
}

// -------------------------------------------------------------------------------------------
// The backend alone, for the conformance suites

/// `__verifyWithBackend(jwk, message, signature)`: loads `jwk` (a JSON string) as a pool's key
/// is loaded, bound to its `alg`, and answers whether `signature` verifies `message` through
/// this backend (Rust's checks, then WebCrypto). It lets the worker tier put the conformance
/// and threat suites' every signature question to the shipped backend in real workerd. Not
/// part of the API, and not in the `.d.ts`.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = __verifyWithBackend, skip_typescript)]
pub async fn verify_with_backend(
    jwk: String,
    message: Vec<u8>,
    signature: Vec<u8>,
) -> Result<bool, JsValue> {
    let refused = |why: String| JsValue::from_str(&format!("key refused: {why}"));
    let jwk = crate::json::parse_object(jwk.as_bytes()).map_err(|e| refused(e.to_string()))?;
    let alg = jwk
        .get("alg")
        .and_then(serde_json::Value::as_str)
        .and_then(Alg::from_name)
        .ok_or_else(|| refused("no alg".into()))?;
    let key = crate::jwk::parse_key(&jwk, crate::alg::AlgSet::only(alg))
        .map_err(|e| refused(e.to_string()))?;
    Ok(WebCrypto.verify_async(&key, &message, &signature).await)
}
