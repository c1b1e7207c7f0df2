//! `isolateStats()`: how full the isolate's caches are, beside their bounds, and the size of
//! its wasm memory (which never shrinks). Counts only, never what the caches hold: the soak and
//! flood tests (`tests/soak/`) read it to prove every cache stays within its bound. An export of
//! the wasm package only; the Worker entry (`src/entry.js`) does not re-export it.

use wasm_bindgen::prelude::*;

use super::isolate::current_app;

/// What `isolateStats()` answers.
#[derive(serde::Serialize)]
struct IsolateStats {
    #[serde(flatten)]
    caches: crate::services::CacheSizes,
    /// The wasm instance's linear memory, in bytes.
    wasm_memory_bytes: usize,
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** How full the isolate's caches are (counts, never contents), beside their bounds. */
export interface IsolateStats {
  revocation_lookups: number; revocation_lookups_bound: number;
  used_signatures: number; used_signatures_bound: number;
  jwks_uris: number; written_here: number; written_here_bound: number;
  feed_entries: number; wasm_memory_bytes: number;
}
"#;

/// `isolateStats()`: the isolate's cache sizes and wasm memory, in bytes.
#[wasm_bindgen(js_name = isolateStats, unchecked_return_type = "IsolateStats")]
pub fn isolate_stats() -> Result<JsValue, JsValue> {
    let stats = IsolateStats {
        caches: current_app().cache_sizes(),
        wasm_memory_bytes: core::arch::wasm32::memory_size(0).saturating_mul(65_536),
    };
    // Plain objects (a flattened struct would otherwise become a JS Map).
    serde::Serialize::serialize(&stats, &serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from_str(&e.to_string()))
}
