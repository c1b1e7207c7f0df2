//! The revocation authority's own side: the `RevocationAuthority` Durable Object's `fetch`
//! ([`authority_fetch`], called by the class in `src/entry.js`) over its SQLite table
//! ([`SqlTable`]) and the `REVOCATIONS` namespace. What is decided is decided in
//! `revocation::ledger`; this file carries values across.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{prelude::*, JsCast};

use super::{
    bindings::{SqlCursor, SqlStorage},
    isolate::settings_of,
    ports::{describe, read_capped, Kv, ReadError},
};
use crate::{
    config::{KvTimings, RevocationFilterSettings},
    error::StoreError,
    revocation::{
        filter::build::{KeyTable, DIRECT_WRITE_ALLOWANCE_MS, EXPIRY_MARGIN_MS},
        ledger::{FilterMemory, KeyLocks, Ledger, LedgerFilter, LedgerTable, Row},
        Entry,
    },
};

/// Largest request body the authority reads, in bytes.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

thread_local! {
    /// The per-key locks of the authority objects this isolate runs (one object in practice;
    /// keys never span two, so sharing the map is harmless).
    static LOCKS: &'static KeyLocks = Box::leak(Box::new(KeyLocks::new()));
    /// The revocation filter's base as this object holds it in memory.
    static FILTER: &'static FilterMemory = Box::leak(Box::new(FilterMemory::new()));
}

/// The property of an object's `ctx` that says its table's schema is in place (set once per
/// object instance, so each object's own storage gets its schema).
const SCHEMA_MARK: &str = "__edgeRevokeSchema";

const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS recent (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, \
     revoked_at INTEGER NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL, \
     request_id TEXT NOT NULL, at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS recent_by_seq ON recent (seq)",
    "CREATE INDEX IF NOT EXISTS recent_by_at ON recent (at)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    // The revocation filter's active keys, with when KV's entry expires (ms).
    "CREATE TABLE IF NOT EXISTS filter_keys (key TEXT PRIMARY KEY, expires REAL NOT NULL)",
];

/// The authority's table in the object's SQLite storage (`ctx.storage.sql`).
pub struct SqlTable {
    sql: SqlStorage,
    exec: Function,
}

impl SqlTable {
    /// The table of `state` (the object's `ctx`); an error if the class has no SQLite storage.
    fn of(state: &JsValue) -> Result<Self, String> {
        let storage = Reflect::get(state, &"storage".into()).map_err(|e| describe(&e))?;
        let sql = Reflect::get(&storage, &"sql".into()).map_err(|e| describe(&e))?;
        if !sql.is_object() {
            return Err(
                "RevocationAuthority has no SQLite storage: declare it in new_sqlite_classes"
                    .into(),
            );
        }
        let sql: SqlStorage = sql.unchecked_into();
        let exec = sql
            .exec()
            .dyn_into::<Function>()
            .map_err(|_| "ctx.storage.sql.exec is not a function".to_owned())?;
        let table = Self { sql, exec };
        let mark = JsValue::from_str(SCHEMA_MARK);
        let seen = Reflect::get(state, &mark).ok().and_then(|v| v.as_bool());
        if seen != Some(true) {
            for statement in SCHEMA {
                table.run(statement, &[]).map_err(|e| e.to_string())?;
            }
            let _ = Reflect::set(state, &mark, &JsValue::TRUE);
        }
        Ok(table)
    }

    fn run(&self, query: &str, params: &[JsValue]) -> Result<Vec<JsValue>, StoreError> {
        let args = Array::new();
        args.push(&JsValue::from_str(query));
        for param in params {
            args.push(param);
        }
        let failed = |e: JsValue| StoreError::Write(format!("sqlite: {}", describe(&e)));
        let cursor: SqlCursor = self
            .exec
            .apply(&self.sql, &args)
            .map_err(failed)?
            .unchecked_into();
        Ok(cursor.to_array().map_err(failed)?.to_vec())
    }
}

fn number(row: &JsValue, name: &str) -> Result<u64, StoreError> {
    Reflect::get(row, &name.into())
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|v| *v >= 0.0)
        .map(|v| v as u64)
        .ok_or_else(|| StoreError::Corrupt(format!("recent.{name} is not a number")))
}

fn text(row: &JsValue, name: &str) -> Result<String, StoreError> {
    Reflect::get(row, &name.into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| StoreError::Corrupt(format!("recent.{name} is not text")))
}

fn row_of(value: &JsValue) -> Result<Row, StoreError> {
    Ok(Row {
        key: text(value, "key")?,
        entry: Entry {
            revoked_at_ms: number(value, "revoked_at")?,
            by: text(value, "by")?,
            reason: text(value, "reason")?,
            request_id: text(value, "request_id")?,
        },
        seq: number(value, "seq")?,
        at_ms: number(value, "at")?,
    })
}

const COLUMNS: &str = "key, seq, revoked_at, by, reason, request_id, at";

impl LedgerTable for SqlTable {
    fn row(&self, key: &str) -> Result<Option<Row>, StoreError> {
        self.run(
            &format!("SELECT {COLUMNS} FROM recent WHERE key = ?"),
            &[key.into()],
        )?
        .first()
        .map(row_of)
        .transpose()
    }

    fn put(&self, row: &Row) -> Result<(), StoreError> {
        self.run(
            &format!("INSERT OR REPLACE INTO recent ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
            &[
                row.key.as_str().into(),
                JsValue::from_f64(row.seq as f64),
                JsValue::from_f64(row.entry.revoked_at_ms as f64),
                row.entry.by.as_str().into(),
                row.entry.reason.as_str().into(),
                row.entry.request_id.as_str().into(),
                JsValue::from_f64(row.at_ms as f64),
            ],
        )
        .map(|_| ())
    }

    fn after(&self, seq: u64, limit: usize) -> Result<Vec<Row>, StoreError> {
        self.run(
            &format!("SELECT {COLUMNS} FROM recent WHERE seq > ? ORDER BY seq LIMIT ?"),
            &[
                JsValue::from_f64(seq as f64),
                JsValue::from_f64(limit as f64),
            ],
        )?
        .iter()
        .map(row_of)
        .collect()
    }

    fn prune(&self, before_ms: u64) -> Result<u64, StoreError> {
        let before = JsValue::from_f64(before_ms as f64);
        let dropped = self
            .run(
                "SELECT MAX(seq) AS m FROM recent WHERE at < ?",
                core::slice::from_ref(&before),
            )?
            .first()
            .and_then(|row| Reflect::get(row, &"m".into()).ok())
            .and_then(|m| m.as_f64())
            .map_or(0, |m| m as u64);
        if dropped > 0 {
            self.run("DELETE FROM recent WHERE at < ?", &[before])?;
        }
        Ok(dropped)
    }

    fn meta(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .run("SELECT value FROM meta WHERE name = ?", &[name.into()])?
            .first()
            .and_then(|row| Reflect::get(row, &"value".into()).ok())
            .and_then(|v| v.as_string()))
    }

    fn set_meta(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            &[name.into(), value.into()],
        )
        .map(|_| ())
    }
}

impl KeyTable for SqlTable {
    fn note_key(&self, key: &str, expires_ms: u64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO filter_keys (key, expires) VALUES (?, ?) \
             ON CONFLICT(key) DO UPDATE SET expires = MAX(expires, excluded.expires)",
            &[key.into(), JsValue::from_f64(expires_ms as f64)],
        )
        .map(|_| ())
    }

    fn drop_expired_keys(&self, now_ms: u64) -> Result<(), StoreError> {
        let before = now_ms.saturating_sub(EXPIRY_MARGIN_MS);
        self.run(
            "DELETE FROM filter_keys WHERE expires <= ?",
            &[JsValue::from_f64(before as f64)],
        )
        .map(|_| ())
    }

    fn key_count(&self) -> Result<u64, StoreError> {
        self.run("SELECT COUNT(*) AS n FROM filter_keys", &[])?
            .first()
            .map(|row| number(row, "n"))
            .unwrap_or(Ok(0))
    }

    fn keys_after(&self, after: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.run(
            "SELECT key FROM filter_keys WHERE key > ? ORDER BY key LIMIT ?",
            &[after.into(), JsValue::from_f64(limit as f64)],
        )?
        .iter()
        .map(|row| text(row, "key"))
        .collect()
    }
}

/// The `RevocationAuthority` object's `fetch`: `POST /raise` and `GET /feed`, answered by
/// `revocation::ledger` over the object's table and the `REVOCATIONS` namespace.
#[wasm_bindgen(js_name = authorityFetch)]
pub async fn authority_fetch(
    state: JsValue,
    env: JsValue,
    request: web_sys::Request,
) -> Result<web_sys::Response, JsValue> {
    let url = web_sys::Url::new(&request.url())?;
    let search = url.search();
    let query = search.strip_prefix('?').unwrap_or(&search).to_owned();
    let answer = |status: u16, text: &str| {
        let init = web_sys::ResponseInit::new();
        init.set_status(status);
        let headers = web_sys::Headers::new()?;
        headers.set("content-type", "application/json")?;
        init.set_headers(&headers);
        web_sys::Response::new_with_opt_str_and_init(Some(text), &init)
    };
    let failed = |why: String| {
        super::bindings::console_error(&format!("edge-revoke authority: {why}"));
        answer(503, &serde_json::json!({ "error": why }).to_string())
    };
    let table = match SqlTable::of(&state) {
        Ok(table) => table,
        Err(why) => return failed(why),
    };
    let settings = settings_of(&env);
    let timings = match KvTimings::from_env(&settings) {
        Ok(timings) => timings,
        Err(err) => return failed(format!("configuration error: {err}")),
    };
    let filter_settings = match RevocationFilterSettings::from_env(&settings) {
        Ok(filter) => filter,
        Err(err) => return failed(format!("configuration error: {err}")),
    };
    let default_delay_ms = timings.window_ms() + DIRECT_WRITE_ALLOWANCE_MS;
    let listing_delay_ms =
        match RevocationFilterSettings::listing_delay_ms(&settings, default_delay_ms) {
            Ok(delay) => delay,
            Err(err) => return failed(format!("configuration error: {err}")),
        };
    let body = match request.body() {
        None => Vec::new(),
        Some(stream) => match read_capped(&stream, MAX_REQUEST_BYTES).await {
            Ok(bytes) => bytes,
            Err(ReadError::TooLarge) => return answer(413, r#"{"error":"too large"}"#),
            Err(ReadError::Failed(why)) => return failed(why),
        },
    };
    let new_epoch = crate::local::tokens::uuid_v4()
        .unwrap_or_else(|_| format!("epoch-{}", js_sys::Date::now() as u64));
    let kv = Kv::from_env(&env);
    let clock = || js_sys::Date::now() as u64;
    let locks = LOCKS.with(|locks| *locks);
    let log =
        |line: &str| super::bindings::console_error(&format!("edge-revoke authority: {line}"));
    let filter = LedgerFilter {
        memory: FILTER.with(|memory| *memory),
        settings: filter_settings,
        listing_delay_ms,
        log: &log,
    };
    let ledger = Ledger {
        table: &table,
        kv: &kv,
        locks,
        clock: &clock,
        timings,
        new_epoch: &new_epoch,
        filter: (filter_settings.max_entries > 0).then_some(filter),
    };
    let (status, text) = ledger
        .serve(&request.method(), &url.pathname(), &query, &body)
        .await;
    if status >= 500 {
        super::bindings::console_error(&format!("edge-revoke authority: {text}"));
    }
    answer(status, &text)
}
