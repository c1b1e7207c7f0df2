//! No module imports from a module that imports it, and the top-level modules keep their floors.
//!
//! This reads every file under `src/` and collects the paths each one names: `use` items (with
//! their `{…}` groups expanded) and paths written inline (`crate::api::CONTENT_TYPE`), whether
//! they begin with `crate::`, `super::`, `self::` or a child module's name. Comments and string
//! literals are skipped. Each path is resolved to the deepest module that has a file, and every
//! edge is folded to the level where the two modules part: an edge from `ops::get_user` to
//! `app` is an edge `ops → app` among the top-level modules, one from `local::users` to
//! `local::tokens` is `users → tokens` among `local`'s children. A module and its own
//! descendants are one unit (a parent declares its children), so edges between them are not
//! counted. Each group of siblings must form no cycle.
//!
//! The top-level modules are also given floors ([`FLOORS`], highest first, as `ARCHITECTURE.md`
//! draws them): a module may import only from its own floor or below. An edge to a higher floor
//! ("upward") fails, and so does a module with no floor, so a new module is placed on purpose.
//! Every top-level module must also be named in the Layout of `src/lib.rs`.
//!
//! Run it alone to see the graph: `cargo test --test module_graph -- --nocapture`; set
//! `MODULE_GRAPH_SRC` to another checkout's `src/` to see that tree's.
//!
//! What it cannot see: a method called on a type defined elsewhere needs no `use` (nor does a
//! macro's expansion), so such a dependency is seen only where the type is named.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The top-level modules from the front door down; a module may use its own floor and those
/// below it. Keep in step with the floors drawn in `ARCHITECTURE.md`.
const FLOORS: &[&[&str]] = &[
    // The Workers adapter (wasm32 only): bindings, ports over them, HTTP conversion, exports.
    &["wasm"],
    // The front door: routes each request once; the JavaScript API enters here too.
    &["app"],
    // What the front door routes to: the Cognito wire protocol, the gate, CORS.
    &["api", "gate", "cors", "proxy"],
    // One file per operation, declared in one table with its auth.
    &["ops"],
    // What operations call back into: token checks, the revocation list, used signatures.
    &["services"],
    // Rules over stored state, each behind its ports; the isolate's caches of verified tokens.
    &["revocation", "replay", "jwks", "local", "verified", "ssf"],
    // From bearer string to `Authenticated`.
    &["auth"],
    // Settings and what they are made of; tokens, claims, signatures.
    &["config", "iam", "signing", "token", "claims", "crypto"],
    &["jwk"],
    // Leaves: plain values, errors, ports, parsers.
    &[
        "alg", "error", "http", "ports", "sigv4", "validate", "identity", "json", "unicode",
    ],
];

/// A module path: `[]` is the crate root, `["ops", "get_user"]` is `src/ops/get_user.rs`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

/// Every `.rs` file under `dir`, with its module path.
fn module_files(src: &Path) -> Vec<(ModPath, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let file = parts.pop().unwrap();
            let stem = file.trim_end_matches(".rs");
            if !(stem == "mod" || (parts.is_empty() && stem == "lib")) {
                parts.push(stem.to_owned());
            }
            out.push((parts, path));
        }
    }
    out.sort();
    out
}

/// Rust source with comments, string and char literals blanked out, as tokens.
fn tokens(source: &str) -> Vec<Tok> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#')))
        {
            // A raw string: r"…", r#"…"#, …
            let mut hashes = 0;
            i += 1;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push(Tok::Other);
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Tok::Other);
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
            out.push(Tok::Other);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `r#type` and byte-string prefixes were handled above; a raw identifier is rare.
            out.push(Tok::Ident(word));
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            out.push(match c {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                ';' => Tok::Semi,
                '*' => Tok::Star,
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Expands one `use` tree starting at `toks[*i]` into full paths (segments as written).
fn use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(*i) {
            Some(Tok::PathSep) => *i += 1,
            Some(Tok::Ident(word)) if word == "as" => {
                *i += 2; // `as name`
                out.push(path);
                return;
            }
            Some(Tok::Ident(word)) => {
                if word != "self" || path.is_empty() {
                    path.push(word.clone());
                }
                *i += 1;
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(path);
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Tok::Close) => {
                            *i += 1;
                            break;
                        }
                        Some(Tok::Comma) => *i += 1,
                        None => return,
                        _ => use_tree(toks, i, &path, out),
                    }
                }
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
    }
}

/// The paths a file names, each with the module it is named from (inline `mod x { … }` blocks
/// included, so `super::` inside `mod tests` means the file's own module).
fn named_paths(file_module: &ModPath, source: &str) -> Vec<(ModPath, Vec<String>)> {
    let toks = tokens(source);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut inline: Vec<(String, usize)> = Vec::new();
    let here = |inline: &Vec<(String, usize)>| {
        let mut m = file_module.clone();
        m.extend(inline.iter().map(|(name, _)| name.clone()));
        m
    };
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => {
                depth += 1;
                i += 1;
            }
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(word) if word == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Open)) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    inline.push((name.clone(), depth + 1));
                }
                i += 1;
            }
            Tok::Ident(word) if word == "use" => {
                i += 1;
                let mut paths = Vec::new();
                use_tree(&toks, &mut i, &[], &mut paths);
                let module = here(&inline);
                out.extend(paths.into_iter().map(|p| (module.clone(), p)));
            }
            Tok::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self")
                    && toks.get(i + 1) == Some(&Tok::PathSep)
                    && !(i > 0 && toks[i - 1] == Tok::PathSep) =>
            {
                let mut path = vec![word.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::PathSep) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(next)) => {
                            path.push(next.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                out.push((here(&inline), path));
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// The module a path names, if it names one of ours: the deepest prefix that is a file module.
fn resolve(from: &ModPath, path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let first = path.first()?;
    let mut absolute: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => {
            let mut base = from.clone();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
            let mut full = base;
            full.extend(rest.iter().cloned());
            return deepest(&full, modules);
        }
        // A relative path: a child module of the current one (2018 uniform paths); anything
        // else is another crate.
        child => {
            let mut candidate = from.clone();
            candidate.push(child.to_owned());
            if !modules.contains(&candidate) {
                return None;
            }
            let mut full = from.clone();
            full.extend(path.iter().cloned());
            return deepest(&full, modules);
        }
    };
    absolute.extend(path.iter().skip(1).cloned());
    deepest(&absolute, modules)
}

/// `path` cut back to a file module (inline modules belong to their file).
fn strip_inline(path: &ModPath, modules: &BTreeSet<ModPath>) -> ModPath {
    let mut p = path.clone();
    while !p.is_empty() && !modules.contains(&p) {
        p.pop();
    }
    p
}

fn deepest(path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let m = strip_inline(&path.to_vec(), modules);
    (!m.is_empty()).then_some(m)
}

/// Edges folded to the level where the two modules part: parent → {(from child, to child)}.
type Levels = BTreeMap<ModPath, BTreeSet<(String, String)>>;

fn graph(src: &Path) -> Levels {
    let files = module_files(src);
    let modules: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut levels = Levels::new();
    for (module, path) in &files {
        let source = fs::read_to_string(path).unwrap();
        for (from, named) in named_paths(module, &source) {
            let Some(to) = resolve(&from, &named, &modules) else {
                continue;
            };
            let from = strip_inline(&from, &modules);
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // Within one module, or between a module and its descendants: one unit.
            if common == from.len() || common == to.len() {
                continue;
            }
            levels
                .entry(from[..common].to_vec())
                .or_default()
                .insert((from[common].clone(), to[common].clone()));
        }
    }
    levels
}

/// The strongly connected groups of more than one module (Tarjan), each sorted.
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let nodes: Vec<&String> = nodes.into_iter().collect();
    let index_of = |n: &String| nodes.iter().position(|m| *m == n).unwrap();
    let adjacency: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            edges
                .iter()
                .filter(|(a, _)| a == *n)
                .map(|(_, b)| index_of(b))
                .collect()
        })
        .collect();
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    fn visit(v: usize, adj: &[Vec<usize>], s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &adj[v] {
            match s.index[w] {
                None => {
                    visit(w, adj, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                group.push(w);
                if w == v {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let n = nodes.len();
    let mut state = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        groups: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(v, &adjacency, &mut state);
        }
    }
    let mut out: Vec<Vec<String>> = state
        .groups
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|g| {
            let mut names: Vec<String> = g.into_iter().map(|i| nodes[i].clone()).collect();
            names.sort();
            names
        })
        .collect();
    out.sort();
    out
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&module))
}

fn level_name(parent: &ModPath) -> String {
    if parent.is_empty() {
        "crate".to_owned()
    } else {
        parent.join("::")
    }
}

/// The report: the top-level graph floor by floor, then every finding.
fn report(levels: &Levels, top_level: &[String]) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut findings = Vec::new();
    let empty = BTreeSet::new();
    let top = levels.get(&Vec::new()).unwrap_or(&empty);
    text.push_str("top-level modules, each with what it imports:\n");
    for module in top_level {
        let floor = floor_of(module).map_or("?".to_owned(), |f| f.to_string());
        let uses: Vec<&str> = top
            .iter()
            .filter(|(a, _)| a == module)
            .map(|(_, b)| b.as_str())
            .collect();
        text.push_str(&format!("  [{floor}] {module} -> {}\n", uses.join(", ")));
    }
    for module in top_level {
        if floor_of(module).is_none() {
            findings.push(format!(
                "module `{module}` has no floor: add it to FLOORS (and ARCHITECTURE.md)"
            ));
        }
    }
    for (from, to) in top {
        if let (Some(f), Some(t)) = (floor_of(from), floor_of(to)) {
            if t < f {
                findings.push(format!(
                    "upward edge: {from} (floor {f}) imports {to} (floor {t})"
                ));
            }
        }
    }
    for (parent, edges) in levels {
        for group in cycles(edges) {
            let inside: Vec<String> = edges
                .iter()
                .filter(|(a, b)| group.contains(a) && group.contains(b))
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect();
            findings.push(format!(
                "circle among {}'s modules {{{}}}: {}",
                level_name(parent),
                group.join(", "),
                inside.join("; ")
            ));
        }
    }
    (text, findings)
}

/// `src/` of this checkout, or of the one `MODULE_GRAPH_SRC` names (to print another tree's
/// graph for comparison: `MODULE_GRAPH_SRC=/elsewhere/src cargo test --test module_graph --
/// --nocapture`).
fn src_dir() -> PathBuf {
    match std::env::var_os("MODULE_GRAPH_SRC") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    }
}

fn top_level_modules(src: &Path) -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (module, _) in module_files(src) {
        if let Some(first) = module.first() {
            names.insert(first.clone());
        }
    }
    names.into_iter().collect()
}

#[test]
fn no_module_imports_from_a_module_that_imports_it_and_none_imports_upward() {
    let src = src_dir();
    let top_level = top_level_modules(&src);
    let levels = graph(&src);
    let (text, findings) = report(&levels, &top_level);
    println!("{text}");
    for finding in &findings {
        println!("{finding}");
    }
    println!("{} finding(s)", findings.len());
    assert!(findings.is_empty(), "{text}\n{}", findings.join("\n"));
}

#[test]
fn the_layout_in_lib_rs_names_every_top_level_module() {
    let src = src_dir();
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let layout: String = lib
        .lines()
        .take_while(|line| line.starts_with("//!"))
        .skip_while(|line| !line.contains("# Layout"))
        .take_while(|line| !line.contains("# Design"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!layout.is_empty(), "src/lib.rs has no `# Layout` section");
    let missing: Vec<String> = top_level_modules(&src)
        .into_iter()
        .filter(|m| !layout.contains(&format!("`{m}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "the Layout of src/lib.rs does not name: {missing:?}"
    );
}

// The checker itself, on made-up sources: each check must be able to fail.

fn levels_of(files: &[(&[&str], &str)]) -> Levels {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("module-graph-{}-{run}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for (module, source) in files {
        let mut path = dir.clone();
        let file = match module {
            [] => "lib.rs".to_owned(),
            [.., last] => {
                for part in &module[..module.len() - 1] {
                    path.push(part);
                }
                format!("{last}.rs")
            }
        };
        fs::create_dir_all(&path).unwrap();
        fs::write(path.join(file), source).unwrap();
    }
    let levels = graph(&dir);
    let _ = fs::remove_dir_all(&dir);
    levels
}

#[test]
fn the_checker_finds_a_circle_through_a_use_group_and_an_inline_path() {
    let levels = levels_of(&[
        (&[], "pub mod a; pub mod b; pub mod c;"),
        (&["a"], "use crate::{b::{X, Y}, json};"),
        (&["b"], "fn f() { let _ = crate::c::Z; }"),
        (
            &["c"],
            "// use crate::b; (a comment)\nconst S: &str = \"crate::b::X\";\nuse crate::a::*;",
        ),
    ]);
    let found = cycles(&levels[&Vec::new()]);
    assert_eq!(found, vec![vec!["a".to_owned(), "b".into(), "c".into()]]);
}

#[test]
fn the_checker_ignores_comments_strings_and_a_module_using_its_own_children() {
    let levels = levels_of(&[
        (&[], "pub mod a; pub mod b;"),
        (&["a"], "mod x; use x::Thing; fn f() {}"),
        (&["a", "x"], "use super::f; use crate::b::B;"),
        (&["b"], "/* use crate::a; */ const S: &str = r#\"crate::a::f\"#; fn g(c: char) { let _ = '\"'; }"),
    ]);
    let top = &levels[&Vec::new()];
    assert_eq!(
        top.iter().cloned().collect::<Vec<_>>(),
        vec![("a".to_owned(), "b".to_owned())]
    );
    assert!(cycles(top).is_empty());
    assert!(
        !levels.contains_key(&vec!["a".to_owned()]),
        "a → a::x is one unit"
    );
}

#[test]
fn the_checker_folds_a_circle_between_siblings_to_their_parent() {
    let levels = levels_of(&[
        (&[], "pub mod local;"),
        (&["local", "mod"], "pub mod users; pub mod tokens;"),
        (&["local", "users"], "use super::tokens::T;"),
        (
            &["local", "tokens"],
            "mod tests { use super::super::users::U; }",
        ),
    ]);
    let local = &levels[&vec!["local".to_owned()]];
    assert_eq!(
        cycles(local),
        vec![vec!["tokens".to_owned(), "users".into()]]
    );
}

#[test]
fn the_checker_reports_an_upward_edge_and_a_module_without_a_floor() {
    let mut top = BTreeSet::new();
    top.insert(("json".to_owned(), "app".to_owned()));
    let mut levels = Levels::new();
    levels.insert(Vec::new(), top);
    let (_, findings) = report(&levels, &["app".into(), "json".into(), "newcomer".into()]);
    assert!(
        findings.iter().any(|f| f.starts_with("upward edge: json")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.contains("`newcomer` has no floor")),
        "{findings:?}"
    );
}
