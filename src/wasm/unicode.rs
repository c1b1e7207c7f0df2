//! `unicodeSpelling(value)`: what the module makes of one string's Unicode, through the same
//! functions every operation uses: its canonical user-id spelling in a case-insensitive and in
//! a case-sensitive pool (`crate::identity::UserId`), and whether it matches the username and
//! the attribute-name patterns (`crate::validate::Pattern`). In wasm32 those answers come from
//! the JS engine (`crate::unicode`); the worker tier compares them with the native build's for
//! every character the Unicode tables treat specially (`tests/worker/unicode.test.mjs`). An
//! export of the wasm package only; the Worker entry (`src/entry.js`) does not re-export it.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::identity::{CaseRule, UserId};
use crate::validate::Pattern;

/// `unicodeSpelling(value)` → `[insensitive, sensitive, username, attributeName]`.
#[wasm_bindgen(
    js_name = unicodeSpelling,
    unchecked_return_type = "[insensitive: string, sensitive: string, username: boolean, attributeName: boolean]"
)]
pub fn unicode_spelling(value: &str) -> Array {
    Array::of4(
        &JsValue::from_str(UserId::new(value, CaseRule::Insensitive).as_str()),
        &JsValue::from_str(UserId::new(value, CaseRule::Sensitive).as_str()),
        &JsValue::from_bool(Pattern::Username.is_match(value)),
        &JsValue::from_bool(Pattern::AttributeName.is_match(value)),
    )
}
