//! Local pools: users, passwords and tokens this Worker owns, so the whole story runs without AWS.

pub mod codes;
pub mod password;
pub mod seal;
pub mod srp;
pub mod tokens;
pub mod users;
