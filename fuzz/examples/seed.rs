//! Writes the fuzz targets' seed inputs into `fuzz/seeds/<target>/`, from the public vectors in
//! `../shared/vectors/` and the test fixtures (`tests/support`, `wrangler.toml` and the
//! examples' configurations). `make fuzz-corpus` runs it, then minimises the seeds into
//! `fuzz/corpus/<target>/` with `cargo fuzz cmin`.
//!
//! `cargo run --release --manifest-path fuzz/Cargo.toml --example seed`

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use edge_revoke::jwk::Alg;
use edge_revoke_fuzz::{
    api::{format_calls, SRP_A},
    issuer_for, join_fields, kid_for, private_jwk, public_jwk, signer, signing_keys_json,
    support::{self, ADMIN_SCOPE, EXT, LOCAL, LOCAL2, PASSWORD, PUBLIC, SECRET_CLIENT},
    token_config, NOW_MS,
};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn vectors() -> PathBuf {
    root().join("../../shared/vectors")
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Seeds of one target, deduplicated, written as files named by their index.
struct Seeds {
    target: &'static str,
    items: BTreeSet<Vec<u8>>,
}

impl Seeds {
    fn new(target: &'static str) -> Self {
        Self {
            target,
            items: BTreeSet::new(),
        }
    }

    fn add(&mut self, bytes: impl AsRef<[u8]>) {
        self.items.insert(bytes.as_ref().to_vec());
    }

    fn write(self) {
        let dir = root().join("seeds").join(self.target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("seed directory");
        for (i, item) in self.items.iter().enumerate() {
            fs::write(dir.join(format!("seed-{i:04}")), item).expect("seed file");
        }
        println!("{:>14}: {} seeds", self.target, self.items.len());
    }
}

/// Every string under `value` stored at a member named `name`.
fn strings_named(value: &Value, name: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if key == name {
                    if let Value::String(text) = member {
                        out.push(text.clone());
                    }
                }
                strings_named(member, name, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_named(v, name, out)),
        _ => {}
    }
}

/// Every object under `value` stored at a member whose name is in `names`.
fn objects_named(value: &Value, names: &[&str], out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if names.contains(&key.as_str()) && member.is_object() {
                    out.push(member.clone());
                }
                objects_named(member, names, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| objects_named(v, names, out)),
        _ => {}
    }
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Claims a fuzz-configuration pool accepts at the fixed clock.
fn claims(pool: &str, token_use: &str) -> Value {
    let now_s = NOW_MS / 1000;
    let mut claims = json!({"iss": issuer_for(pool), "sub": "fuzz-user", "token_use": token_use,
        "auth_time": now_s - 60, "iat": now_s - 60, "exp": now_s + 3600, "jti": "jti-1",
        "origin_jti": "origin-1", "username": "fuzz-user", "scope": ADMIN_SCOPE});
    if token_use == "id" {
        claims["aud"] = json!("fuzzclient");
        claims["cognito:username"] = json!("fuzz-user");
    } else {
        claims["client_id"] = json!("fuzzclient");
    }
    claims
}

fn signed_tokens() -> Vec<String> {
    let keys = signer::Keys::new();
    let mut out = Vec::new();
    for alg in Alg::ALL {
        let pool = if alg == Alg::Hs256 { "hmac" } else { "asym" };
        for token_use in ["access", "id"] {
            let header = json!({"alg": alg.name(), "kid": kid_for(alg), "typ": "JWT"});
            let payload = claims(pool, token_use);
            out.push(signer::token(
                &keys,
                alg,
                &header.to_string(),
                &payload.to_string(),
            ));
        }
        let header = json!({"alg": alg.name()});
        out.push(signer::token(
            &keys,
            alg,
            &header.to_string(),
            &claims(pool, "access").to_string(),
        ));
    }
    out
}

fn jws(tokens: &[String]) {
    let mut seeds = Seeds::new("jws");
    let mut found = Vec::new();
    for file in files(
        &vectors().join("wycheproof"),
        "json_web_signature_test.json",
    )
    .into_iter()
    .chain(files(&vectors().join("rfc"), ".json"))
    .chain(files(&vectors().join("jose-cookbook"), ".json"))
    {
        let doc = read_json(&file);
        strings_named(&doc, "jws", &mut found);
        strings_named(&doc, "compact", &mut found);
    }
    for token in found.iter().chain(tokens) {
        seeds.add(token);
    }
    seeds.write();
}

fn jwks() {
    let mut seeds = Seeds::new("jwks");
    let mut keys = Vec::new();
    for file in files(&vectors().join("wycheproof"), ".json")
        .into_iter()
        .chain(files(&vectors().join("jose-cookbook"), ".json"))
        .chain(files(&vectors().join("rfc"), ".json"))
    {
        let doc = read_json(&file);
        objects_named(
            &doc,
            &["private", "public", "keyJwk", "publicKeyJwk", "jwk", "key"],
            &mut keys,
        );
        if file.to_string_lossy().contains("jwk_") {
            keys.push(doc);
        }
    }
    for alg in Alg::ALL {
        keys.push(Value::Object(public_jwk(alg, Some(&kid_for(alg)))));
        keys.push(Value::Object(private_jwk(alg)));
    }
    keys.push(support::signing_keys());
    let all_algs: &[u8] = &[0x7f, 0x03];
    for key in &keys {
        let set = if key.get("keys").is_some() {
            key.clone()
        } else {
            json!({"keys": [key]})
        };
        let selector: Vec<u8> = match key
            .get("alg")
            .and_then(Value::as_str)
            .and_then(Alg::from_name)
        {
            // Only the key's own algorithm allowed, besides every algorithm.
            Some(alg) => {
                let bit = Alg::ALL.iter().position(|a| *a == alg).unwrap_or(0);
                let bits = 1u16 << bit;
                vec![(bits & 0x7f) as u8, (bits >> 7) as u8]
            }
            None => all_algs.to_vec(),
        };
        seeds.add(join_fields(&[all_algs, set.to_string().as_bytes()]));
        seeds.add(join_fields(&[&selector, set.to_string().as_bytes()]));
    }
    let mixed =
        json!({"keys": [public_jwk(Alg::Es256, Some("a")), public_jwk(Alg::Hs256, Some("b"))]});
    seeds.add(join_fields(&[all_algs, mixed.to_string().as_bytes()]));
    let duplicate =
        json!({"keys": [public_jwk(Alg::Es256, Some("a")), public_jwk(Alg::EdDsa, Some("a"))]});
    seeds.add(join_fields(&[all_algs, duplicate.to_string().as_bytes()]));
    seeds.write();
}

fn sigv4() {
    let mut seeds = Seeds::new("sigv4");
    let dir = vectors().join("sigv4");
    for file in files(&dir, ".sreq")
        .into_iter()
        .chain(files(&dir, ".req"))
        .chain(files(&dir, "-signed-request.txt"))
        .chain(files(&dir, "request.txt"))
    {
        seeds.add(fs::read(&file).expect("request file"));
    }
    seeds.write();
}

fn api(base_tokens: &[String]) {
    let mut seeds = Seeds::new("api");
    let admin = Some("admin");
    let user = |pool: &str, name: &str| json!({"UserPoolId": pool, "Username": name});
    let sequences: Vec<Vec<(&str, Option<&str>, Value)>> = vec![
        vec![("GetUser", None, json!({"AccessToken": "$ACCESS"}))],
        vec![("GetUser", None, json!({"AccessToken": "$EXT_ACCESS"}))],
        vec![
            ("GlobalSignOut", None, json!({"AccessToken": "$ACCESS"})),
            ("GetUser", None, json!({"AccessToken": "$ACCESS"})),
            ("GATE", None, json!("$ACCESS")),
        ],
        vec![
            ("AdminUserGlobalSignOut", admin, user(LOCAL, "alice")),
            ("GATE", None, json!("$ACCESS")),
            (
                "InitiateAuth",
                None,
                json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": PUBLIC,
                 "AuthParameters": {"REFRESH_TOKEN": "$REFRESH"}}),
            ),
        ],
        vec![("AdminUserGlobalSignOut", admin, user(EXT, "ext-alice"))],
        vec![(
            "AdminUserGlobalSignOut",
            Some("limited"),
            user(LOCAL, "alice"),
        )],
        vec![(
            "AdminUserGlobalSignOut",
            Some("forged"),
            user(LOCAL, "alice"),
        )],
        vec![("AdminUserGlobalSignOut", None, user(LOCAL, "alice"))],
        vec![
            (
                "RevokeToken",
                None,
                json!({"Token": "$REFRESH", "ClientId": PUBLIC}),
            ),
            (
                "InitiateAuth",
                None,
                json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": PUBLIC,
                 "AuthParameters": {"REFRESH_TOKEN": "$REFRESH"}}),
            ),
        ],
        vec![(
            "RevokeToken",
            None,
            json!({"Token": "$REFRESH", "ClientId": SECRET_CLIENT,
                                         "ClientSecret": support::CLIENT_SECRET}),
        )],
        vec![(
            "InitiateAuth",
            None,
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": PUBLIC,
                 "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        )],
        vec![(
            "InitiateAuth",
            None,
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": SECRET_CLIENT,
                 "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD,
                                    "SECRET_HASH": support::secret_hash("alice", SECRET_CLIENT)}}),
        )],
        vec![(
            "InitiateAuth",
            None,
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": PUBLIC,
                 "AuthParameters": {"USERNAME": "alice", "SRP_A": SRP_A}}),
        )],
        vec![(
            "InitiateAuth",
            None,
            json!({"AuthFlow": "REFRESH_TOKEN", "ClientId": PUBLIC,
                 "AuthParameters": {"REFRESH_TOKEN": "$REFRESH"}}),
        )],
        vec![(
            "RespondToAuthChallenge",
            None,
            json!({"ChallengeName": "NEW_PASSWORD_REQUIRED",
                 "ClientId": PUBLIC, "Session": "$SESSION",
                 "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": "Another-Horse-2"}}),
        )],
        vec![(
            "RespondToAuthChallenge",
            None,
            json!({"ChallengeName": "PASSWORD_VERIFIER",
                 "ClientId": PUBLIC, "ChallengeResponses": {"USERNAME": "alice",
                 "PASSWORD_CLAIM_SECRET_BLOCK": "$SECRET_BLOCK", "TIMESTAMP": "$TIMESTAMP",
                 "PASSWORD_CLAIM_SIGNATURE": "gn0/+FTHs+OnKotcmF/RxMpfx1q2G5LD0wXurVUqBGU="}}),
        )],
        vec![
            (
                "AdminCreateUser",
                admin,
                json!({"UserPoolId": LOCAL, "Username": "carol",
                 "TemporaryPassword": "Temp-Pass-1", "MessageAction": "SUPPRESS",
                 "UserAttributes": [{"Name": "email", "Value": "carol@example.com"},
                                    {"Name": "email_verified", "Value": "true"}]}),
            ),
            ("AdminGetUser", admin, user(LOCAL, "carol")),
        ],
        vec![(
            "AdminSetUserPassword",
            admin,
            json!({"UserPoolId": LOCAL, "Username": "bob",
                 "Password": "Another-Horse-2", "Permanent": true}),
        )],
        vec![("AdminGetUser", admin, user(LOCAL, "alice@example.com"))],
        vec![
            ("AdminDisableUser", admin, user(LOCAL, "alice")),
            ("GATE", None, json!("$ACCESS")),
            ("AdminEnableUser", admin, user(LOCAL, "alice")),
        ],
        vec![
            ("AdminDeleteUser", admin, user(LOCAL, "alice")),
            ("GetUser", None, json!({"AccessToken": "$ACCESS"})),
        ],
        vec![("AdminGetUser", admin, user(LOCAL2, "alice"))],
        vec![("NoSuchOperation", None, json!({}))],
        vec![("AWSCognitoIdentityProviderService.", None, json!({}))],
        vec![("HEALTHZ", admin, json!(null))],
        vec![("HEALTHZ", None, json!(null))],
        vec![("GATE", None, json!("$ID"))],
        vec![("GATE", None, json!("$EXT_ACCESS"))],
    ];
    for calls in &sequences {
        seeds.add(format_calls(calls));
    }
    // Bodies as text the JSON writer would not make.
    seeds.add("GetUser\n{\"AccessToken\":\"$ACCESS\",\"AccessToken\":\"x\"}");
    seeds.add("GetUser\n");
    seeds.add("GetUser\nnull");
    seeds.add("GetUser\n[]");
    seeds.add("GetUser\n{\"AccessToken\": 5}");
    // The gate with other tokens of every algorithm (not of these pools: refused).
    for token in base_tokens.iter().take(4) {
        seeds.add(format!("GATE\n{token}"));
    }
    seeds.write();
}

fn toml_vars(path: &Path) -> Option<Value> {
    let text = fs::read_to_string(path).ok()?;
    let doc: toml::Value = toml::from_str(&text).ok()?;
    serde_json::to_value(doc.get("vars")?).ok()
}

fn config() {
    let mut seeds = Seeds::new("config");
    let vars = Value::Object(support::vars());
    seeds.add(vars.to_string());
    // The JSON-valued settings as JSON strings (secrets, .dev.vars).
    let mut as_text = support::vars();
    for name in ["POOLS", "ADMIN_CREDENTIALS", "SIGNING_KEYS"] {
        if let Some(value) = as_text.get(name).cloned() {
            as_text.insert(name.into(), Value::String(value.to_string()));
        }
    }
    seeds.add(Value::Object(as_text).to_string());
    seeds.add(Value::Object(token_config()).to_string());
    let mut everything = support::vars();
    everything.insert("SIGNING_KEYS".into(), signing_keys_json());
    everything.insert(
        "ALLOWED_ORIGINS".into(),
        json!("https://app.example,http://localhost:8787"),
    );
    everything.insert("PROTECTED_PREFIXES".into(), json!(["/api/", "/admin/"]));
    everything.insert("ORIGIN_URL".into(), json!("https://origin.example/base/"));
    everything.insert("REVOCATION_CACHE_TTL_S".into(), json!("0"));
    everything.insert("KV_CACHE_TTL_S".into(), json!(60));
    everything.insert("DEV_MODE".into(), json!("true"));
    seeds.add(Value::Object(everything).to_string());
    let pools_with_everything = json!({"POOLS": [
        {"id": "eu-west-1_Remote1", "jwks_uri": "https://issuer.example/jwks.json",
         "allow_any_client": true, "username_case_sensitive": true,
         "username_may_be_email_or_phone": true, "token_use": ["id"]},
        {"id": "eu-west-1_Remote2", "issuer": "https://issuer.example/2",
         "algorithms": ["ES256", "EdDSA"], "clients": [{"id": "c", "secret": "s"}],
         "access_token_validity_s": 300, "id_token_validity_s": 300,
         "refresh_token_validity_s": 86400}]});
    seeds.add(pools_with_everything.to_string());
    let mut tomls = vec![root().join("../wrangler.toml")];
    tomls.extend(files(&root().join("../examples"), "wrangler.toml"));
    for path in tomls {
        if let Some(mut vars) = toml_vars(&path) {
            if let Some(map) = vars.as_object_mut() {
                map.insert("SIGNING_KEYS".into(), support::signing_keys());
            }
            seeds.add(vars.to_string());
        }
    }
    seeds.write();
}

fn refresh_jwe() {
    let mut seeds = Seeds::new("refresh_jwe");
    let claims = json!({"pool": LOCAL, "sub": "8d2f1c3e-0000-4000-8000-000000000001",
        "client_id": PUBLIC, "origin_jti": "origin-jti-1", "event_id": "event-1",
        "auth_time": NOW_MS / 1000, "exp": NOW_MS / 1000 + 2_592_000});
    let header = r#"{"alg":"dir","enc":"A256GCM","kid":"test-rsa-1","typ":"refresh"}"#;
    let shaped = format!(
        "{}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
        base64_url(header.as_bytes())
    );
    seeds.add(join_fields(&[&[0], shaped.as_bytes(), b""]));
    seeds.add(join_fields(&[&[1], b"", claims.to_string().as_bytes()]));
    seeds.add(join_fields(&[&[1], b"", b"{\"pool\":1}"]));
    for index in 0..5u8 {
        seeds.add(join_fields(&[&[2 + 3 * index], b"", b"AAAA"]));
        seeds.add(join_fields(&[&[2 + 3 * index], b"", b""]));
    }
    seeds.write();
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    URL_SAFE_NO_PAD.encode(bytes)
}

fn srp() {
    let mut seeds = Seeds::new("srp");
    let dir = vectors().join("cognito-srp");
    let mut timestamps = vec!["Tue Mar 5 09:07:03 UTC 2024".to_owned()];
    strings_named(
        &read_json(&dir.join("timestamps.json")),
        "TIMESTAMP",
        &mut timestamps,
    );
    let mut a_values = Vec::new();
    for file in files(&dir, ".json") {
        strings_named(&read_json(&file), "A", &mut a_values);
    }
    let instant = 1_709_629_623_000u64.to_be_bytes();
    for (i, timestamp) in timestamps.iter().enumerate() {
        let flags = [&[0u8][..], &instant].concat();
        seeds.add(join_fields(&[
            &flags,
            b"",
            b"$BLOCK",
            b"alice",
            timestamp.as_bytes(),
            b"$VALID",
            b"$VERIFIER",
        ]));
        if i == 0 {
            for signature in ["gn0/+FTHs+OnKotcmF/RxMpfx1q2G5LD0wXurVUqBGU=", ""] {
                seeds.add(join_fields(&[
                    &flags,
                    b"",
                    b"$BLOCK",
                    b"alice",
                    timestamp.as_bytes(),
                    signature.as_bytes(),
                    b"",
                ]));
            }
        }
    }
    for a in a_values {
        seeds.add(join_fields(&[&[1], a.as_bytes(), b"", b"", b"", b"", b""]));
    }
    seeds.write();
}

fn differential() {
    let mut seeds = Seeds::new("differential");
    let payload = claims("asym", "access").to_string();
    // Control bytes: signer slot (see `signer_of`), key set (0: by kid, 1: HMAC by kid, 2–10:
    // one key without kid), mutation, two parameters.
    let slots: [(u8, u8); 9] = [
        (0, 0),
        (1, 0),
        (2, 0),
        (3, 0),
        (4, 0),
        (5, 0),
        (6, 0),
        (20, 0),
        (34, 1),
    ];
    for (i, (slot, set)) in slots.iter().enumerate() {
        for op in 0..12u8 {
            seeds.add(join_fields(&[
                &[*slot, *set, op, 1, 2],
                b"",
                payload.as_bytes(),
                b"AA",
            ]));
        }
        // Without kid, against the single key of that algorithm.
        let single = 2 + i as u8;
        seeds.add(join_fields(&[
            &[*slot, single, 0, 0, 0],
            b"",
            payload.as_bytes(),
            b"",
        ]));
    }
    let headers = [
        r#"{"alg":"HS256","kid":"fuzz-HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","crit":["exp"]}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","b64":true}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","b64":false}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","x":{"a":1,"a":2}}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","jku":"https://evil.example"}"#,
        r#"{"alg":"none","kid":"fuzz-HS256"}"#,
        r#"{"alg":"HS256","kid":"fuzz-HS256","typ":7}"#,
        r#"{"alg":"HS256","kid":["fuzz-HS256"]}"#,
        r#"{"alg":"RS256","kid":"fuzz-HS256"}"#,
        r#"{"alg":"HS256","kid":"fuzz-\u0048S256"}"#,
        r#" {"alg":"HS256","kid":"fuzz-HS256"} "#,
    ];
    for header in headers {
        seeds.add(join_fields(&[
            &[34, 1, 0, 0, 0],
            header.as_bytes(),
            payload.as_bytes(),
            b"",
        ]));
    }
    seeds.add(join_fields(&[
        &[20, 0, 0, 0, 0],
        r#"{"alg":"EdDSA","kid":"fuzz-EdDSA"}"#.as_bytes(),
        b"not json",
        b"",
    ]));
    seeds.write();
}

fn main() {
    let tokens = signed_tokens();
    jws(&tokens);
    jwks();
    sigv4();
    api(&tokens);
    config();
    refresh_jwe();
    srp();
    differential();
    ssf();
}

/// Every case of `../shared/vectors/ssf/`, moved to the fuzz transmitter (its issuer, audience,
/// key and pool, the fuzz clock), as a header and payload to sign (fields 2 and 3); and some as
/// whole pushes (fields 0 and 1), signed, with the right and wrong secrets and media types.
fn ssf() {
    use edge_revoke_fuzz::ssf::{AUDIENCE, ISSUER, KID, SECRET};
    let mut seeds = Seeds::new("ssf");
    let keys = signer::Keys::new();
    let dir = vectors().join("ssf");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "config.json"))
        .collect();
    names.sort();
    let config = read_json(&dir.join("config.json"));
    let vector_now = config["now"].as_i64().unwrap_or(0);
    let shift = (NOW_MS / 1000) as i64 - vector_now;
    let pool_issuer = config["pools"][0]["issuer"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    for path in names {
        let case = read_json(&path);
        let mut text = serde_json::to_string(&case["payload"]).expect("JSON");
        text = text
            .replace("https://ssf.transmitter.example", ISSUER)
            .replace("https://edge.example.com/ssf", AUDIENCE)
            .replace(&pool_issuer, support::EXT_ISSUER);
        let mut payload: Value = serde_json::from_str(&text).expect("JSON");
        for name in ["iat", "toe"] {
            if let Some(t) = payload.get(name).and_then(Value::as_i64) {
                payload[name] = json!(t + shift);
            }
        }
        let mut header = case["header"].clone();
        if header.get("alg").is_some() {
            header["alg"] = json!("EdDSA");
        }
        if header.get("kid").is_some() {
            header["kid"] = json!(KID);
        }
        let (header, payload) = (header.to_string(), payload.to_string());
        seeds.add(join_fields(&[
            b"",
            b"",
            header.as_bytes(),
            payload.as_bytes(),
        ]));
        seeds.add(join_fields(&[b"", b"", b"", payload.as_bytes()]));
        let token = signer::token(&keys, Alg::EdDsa, &header, &payload);
        for headers in [
            format!("POST\nBearer {SECRET}\napplication/secevent+jwt"),
            format!("POST\nbearer {SECRET}\nApplication/SecEvent+JWT; charset=utf-8"),
            format!("POST\nBearer {SECRET}x\napplication/secevent+jwt"),
            "GET\n\n".to_owned(),
        ] {
            seeds.add(join_fields(&[
                token.as_bytes(),
                headers.as_bytes(),
                b"",
                b"",
            ]));
        }
    }
    seeds.write();
}
