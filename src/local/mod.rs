//! Local pools: users, passwords and tokens this Worker owns, so the whole story runs without AWS.

pub mod keys;

pub use keys::{SigningKey, SigningKeys};
