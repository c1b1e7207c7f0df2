//! The `ssf` target's transmitter, shared with the seed generator.

/// Its id (the push path's last segment).
pub const ID: &str = "fuzz-tx";
/// The `iss` of its SETs.
pub const ISSUER: &str = "https://ssf.fuzz.example";
/// The `aud` its SETs carry.
pub const AUDIENCE: &str = "https://edge.fuzz.example/ssf";
/// The bearer secret it presents.
pub const SECRET: &str = "fuzz-push-secret-0123456789abcdef0123";
/// The kid of its Ed25519 key (the fixed Ed25519 key).
pub const KID: &str = "fuzz-ed25519";
