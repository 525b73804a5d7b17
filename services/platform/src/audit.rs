//! Append-only, hash-chained audit log: every state change of suggestions, ballots and
//! points is recorded so that a county's auditor can check nothing was altered, removed or
//! slipped in afterwards (DESIGN.md §5 "Audit").
//!
//! # Chains
//! One chain per county (tenant) per database, so a county's auditor verifies its own
//! chain and counties never contend. Entry `seq` (1, 2, 3, … without gaps) carries
//! `prev_hash`, the hash of entry `seq - 1` (64 zeros, [`GENESIS_HASH`], for entry 1), and
//! `hash`, the SHA-256 of `prev_hash` and its own fields. `audit_heads` holds each chain's
//! last `(seq, hash)`; [`append`] locks that row, so appends of one county are serialised
//! and the chain never forks, and it is updated in the caller's transaction, so a rolled
//! back transaction leaves neither an entry nor a gap.
//!
//! # Append-only
//! Triggers refuse UPDATE, DELETE and TRUNCATE of `audit_log`, check that every insert
//! extends its chain, and let a head only advance onto the entry just appended. Only a
//! superuser who disables the triggers can tamper, and [`verify`] then finds it: a changed
//! entry no longer matches its hash, a removed or inserted one breaks `seq` or the links, a
//! removed tail no longer reaches the head. What a chain cannot show on its own is a
//! consistent rewrite of the whole chain and its head; publishing heads elsewhere (reports,
//! another system) anchors them against that.
//!
//! # Hash
//! `hash = hex(SHA-256(field₁ ‖ field₂ ‖ …))` where every field is its UTF-8 bytes preceded
//! by their length as a big-endian u64, so no two field lists encode alike. The fields, in
//! order: the tag `renda-audit-v1`, `prev_hash`, county, `seq` in decimal, entity,
//! entity_id, action, actor_id, from_state, to_state, `at` as RFC 3339 UTC with exactly six
//! fractional digits (`2025-03-01T08:00:00.123456Z`; PostgreSQL keeps microseconds, so
//! [`append`] truncates `at` to them before hashing and storing), and `detail` as canonical
//! JSON.
//!
//! Canonical JSON is what makes the hash computed before the insert equal the one
//! recomputed from the stored `jsonb`, which reorders keys, drops whitespace and rewrites
//! numbers (`1e2` comes back as `100`): no whitespace; object keys sorted by their UTF-8
//! bytes; strings with only `"`, `\` and U+0000..U+001F escaped (`\"`, `\\`, `\u00XX`);
//! numbers by decimal value as `[-]digits[e exponent]` with no leading or trailing zeros in
//! the digits (`1.50` → `15e-1`, `100` → `1e2`, `-0.0` → `0`). The verifier reads the stored
//! `detail` as text and canonicalises it without going through `f64`, because serde_json's
//! float parsing may be off by one ulp and would then break a sound chain.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool};

use crate::counties::CountyCode;

/// `prev_hash` of every chain's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// First hashed field: names the encoding, so a future change of it cannot be confused.
const HASH_TAG: &str = "renda-audit-v1";

/// Deepest nesting of `detail` accepted: serde_json refuses to read back deeper than 128, and
/// an audit detail is a handful of flat facts anyway.
pub const MAX_DETAIL_DEPTH: usize = 64;

/// Entries the verifier reads per query: bounded memory on long chains.
const VERIFY_BATCH: i64 = 1000;

/// The columns of an entry as [`AuditEntry`]'s `FromRow` reads them (`detail` as text).
macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "SELECT county, seq, entity, entity_id, action, actor_id, from_state, to_state, ",
            "detail::text AS detail, at, prev_hash, hash FROM audit_log ",
            $rest
        )
    };
}

/// One state change to record, borrowed from the caller.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub county: &'a CountyCode,
    /// Kind of thing that changed, e.g. `suggestion`, `ballot`, `points`.
    pub entity: &'a str,
    pub entity_id: &'a str,
    /// What happened, e.g. `submit`, `assign`, `cast`.
    pub action: &'a str,
    /// Who did it: a user's `sub`, or a service name for automatic changes.
    pub actor_id: &'a str,
    /// State before and after; empty where the entity has none (e.g. creation).
    pub from_state: &'a str,
    pub to_state: &'a str,
    /// Further facts worth keeping (reason, amounts, …). At most [`MAX_DETAIL_DEPTH`] levels;
    /// strings must not contain U+0000, which PostgreSQL's `jsonb` refuses.
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A stored entry. Read it with [`list`]; a hand-written query must select `detail::text AS detail`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub county: String,
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor_id: String,
    pub from_state: String,
    pub to_state: String,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

impl<'r> FromRow<'r, PgRow> for AuditEntry {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        StoredEntry::from_row(row)?.into_entry()
    }
}

/// What a chain check found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub intact: bool,
    /// Entries found sound before the first problem (all of them when intact).
    pub entries_checked: i64,
    /// The first entry that is altered, missing, mislinked or out of place.
    pub first_broken_seq: Option<i64>,
    /// What is wrong, for the auditor.
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit detail nests deeper than {MAX_DETAIL_DEPTH} levels")]
    DetailTooDeep,
    #[error("audit entry {county}/{seq} would not verify as stored; refusing to append it")]
    NotReproducible { county: String, seq: i64 },
}

/// Appends `record` to its county's chain inside the caller's transaction, so the entry
/// commits or rolls back with the state change it records.
///
/// Holds the county's head row lock until the transaction ends: keep the transaction short.
/// Under REPEATABLE READ or SERIALIZABLE a concurrent append to the same county makes this
/// fail with a serialization error; retry the transaction.
pub async fn append(conn: &mut PgConnection, record: &AuditRecord<'_>) -> sqlx::Result<AuditEntry> {
    if json_depth(&record.detail) > MAX_DETAIL_DEPTH {
        return Err(sqlx::Error::Encode(Box::new(AuditError::DetailTooDeep)));
    }
    let county = record.county.as_str();
    // The first append of a county creates its head; racing creators wait on the key.
    sqlx::query("INSERT INTO audit_heads (county, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (county) DO NOTHING")
        .bind(county)
        .bind(GENESIS_HASH)
        .execute(&mut *conn)
        .await?;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE county = $1 FOR UPDATE")
            .bind(county)
            .fetch_one(&mut *conn)
            .await?;

    let seq = head_seq + 1;
    let at = record.at.trunc_subsecs(6);
    let detail = canonical_json(&record.detail);
    let hash = chain_hash(
        &head_hash,
        &HashedFields {
            county,
            seq,
            entity: record.entity,
            entity_id: record.entity_id,
            action: record.action,
            actor_id: record.actor_id,
            from_state: record.from_state,
            to_state: record.to_state,
            at,
            canonical_detail: &detail,
        },
    );

    let stored: StoredEntry = sqlx::query_as(
        "INSERT INTO audit_log
             (county, seq, entity, entity_id, action, actor_id, from_state, to_state, detail, at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
         RETURNING county, seq, entity, entity_id, action, actor_id, from_state, to_state,
                   detail::text AS detail, at, prev_hash, hash",
    )
    .bind(county)
    .bind(seq)
    .bind(record.entity)
    .bind(record.entity_id)
    .bind(record.action)
    .bind(record.actor_id)
    .bind(record.from_state)
    .bind(record.to_state)
    .bind(&detail)
    .bind(at)
    .bind(&head_hash)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    // Cheap insurance: an entry the verifier would reject must not enter the chain at all.
    if !stored.recompute_hash().is_ok_and(|recomputed| recomputed == hash) {
        return Err(sqlx::Error::Encode(Box::new(AuditError::NotReproducible { county: county.to_owned(), seq })));
    }

    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE county = $1")
        .bind(county)
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    stored.into_entry()
}

/// Up to `limit` entries of `county` after `after_seq` (from the start when `None`), in seq
/// order; only those of `entity_id` when given. Page by passing the last `seq` seen.
pub async fn list(
    pool: &PgPool,
    county: &CountyCode,
    entity_id: Option<&str>,
    after_seq: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    let after = after_seq.unwrap_or(0);
    let limit = limit.max(0);
    // Two statements rather than `$2 IS NULL OR …`, so each gets a plan on its own index.
    match entity_id {
        Some(entity_id) => {
            sqlx::query_as(select_entries!("WHERE county = $1 AND entity_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"))
                .bind(county.as_str())
                .bind(entity_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
        None => {
            sqlx::query_as(select_entries!("WHERE county = $1 AND seq > $2 ORDER BY seq LIMIT $3"))
                .bind(county.as_str())
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
    }
}

/// Checks `county`'s whole chain: seq contiguous from 1, every `prev_hash` equal to the
/// previous entry's hash, every hash recomputed from the entry's contents, and the head on
/// the last entry. Stops at the first problem.
///
/// Reads in batches inside one REPEATABLE READ snapshot, so appends running meanwhile
/// neither disturb nor falsely break the check. An `Err` is a database failure, never a
/// finding.
pub async fn verify(pool: &PgPool, county: &CountyCode) -> sqlx::Result<Verification> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;

    let mut checked: i64 = 0;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut last_seq = i64::MIN;
    loop {
        let batch: Vec<StoredEntry> =
            sqlx::query_as(select_entries!("WHERE county = $1 AND seq > $2 ORDER BY seq LIMIT $3"))
                .bind(county.as_str())
                .bind(last_seq)
                .bind(VERIFY_BATCH)
                .fetch_all(&mut *tx)
                .await?;
        let full = batch.len() as i64 == VERIFY_BATCH;
        for entry in batch {
            if let Err((broken_seq, problem)) = check_link(&entry, checked + 1, &prev_hash) {
                return Ok(broken(county, checked, broken_seq, problem));
            }
            checked += 1;
            last_seq = entry.seq;
            prev_hash = entry.hash;
        }
        if !full {
            break;
        }
    }

    let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE county = $1")
        .bind(county.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    tx.rollback().await?;

    // A county never appended to has no head; treat it as the empty chain.
    let (head_seq, head_hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
    if head_seq > checked {
        let problem = format!(
            "entries {}..={head_seq} are missing: the head is at entry {head_seq} but the chain ends at entry {checked}",
            checked + 1
        );
        return Ok(broken(county, checked, checked + 1, problem));
    }
    if head_seq < checked {
        let problem =
            format!("entries after {head_seq} are not covered by the head, which is at entry {head_seq} of {checked}");
        return Ok(broken(county, checked, head_seq + 1, problem));
    }
    if head_hash != prev_hash {
        let problem = format!("the head's hash {head_hash} differs from entry {checked}'s hash {prev_hash}");
        return Ok(broken(county, checked, checked, problem));
    }
    Ok(Verification { intact: true, entries_checked: checked, first_broken_seq: None, problem: None })
}

fn broken(county: &CountyCode, checked: i64, seq: i64, problem: String) -> Verification {
    tracing::warn!(%county, seq, %problem, "audit chain broken");
    Verification { intact: false, entries_checked: checked, first_broken_seq: Some(seq), problem: Some(problem) }
}

/// Whether `entry` is the sound entry number `expected` following a chain ending in `prev_hash`;
/// otherwise the seq to report and what is wrong.
fn check_link(entry: &StoredEntry, expected: i64, prev_hash: &str) -> Result<(), (i64, String)> {
    if entry.seq != expected {
        return Err(if entry.seq > expected {
            (expected, format!("entry {expected} is missing: the chain goes on with entry {}", entry.seq))
        } else {
            (entry.seq, format!("entry {} is out of place where entry {expected} belongs", entry.seq))
        });
    }
    if entry.prev_hash != prev_hash {
        let previous = if expected == 1 {
            "the chain starts from the genesis hash".to_owned()
        } else {
            format!("entry {} has hash {prev_hash}", expected - 1)
        };
        return Err((expected, format!("entry {expected} links to {} but {previous}", entry.prev_hash)));
    }
    match entry.recompute_hash() {
        Ok(hash) if hash == entry.hash => Ok(()),
        Ok(hash) => Err((
            expected,
            format!(
                "entry {expected} was altered: its contents hash to {hash}, not to its recorded hash {}",
                entry.hash
            ),
        )),
        Err(e) => Err((expected, format!("entry {expected} was altered: its detail cannot be read ({e})"))),
    }
}

/// The hash [`append`] gives `record` as entry `seq` after an entry hashed `prev_hash`
/// (see the module doc for the encoding).
pub fn entry_hash(prev_hash: &str, seq: i64, record: &AuditRecord<'_>) -> String {
    chain_hash(
        prev_hash,
        &HashedFields {
            county: record.county.as_str(),
            seq,
            entity: record.entity,
            entity_id: record.entity_id,
            action: record.action,
            actor_id: record.actor_id,
            from_state: record.from_state,
            to_state: record.to_state,
            at: record.at,
            canonical_detail: &canonical_json(&record.detail),
        },
    )
}

/// Everything an entry's hash covers besides `prev_hash`.
struct HashedFields<'a> {
    county: &'a str,
    seq: i64,
    entity: &'a str,
    entity_id: &'a str,
    action: &'a str,
    actor_id: &'a str,
    from_state: &'a str,
    to_state: &'a str,
    at: DateTime<Utc>,
    canonical_detail: &'a str,
}

fn chain_hash(prev_hash: &str, f: &HashedFields<'_>) -> String {
    let seq = f.seq.to_string();
    // Formatting truncates to microseconds, as storing does.
    let at = f.at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut hasher = Sha256::new();
    for field in [
        HASH_TAG,
        prev_hash,
        f.county,
        &seq,
        f.entity,
        f.entity_id,
        f.action,
        f.actor_id,
        f.from_state,
        f.to_state,
        &at,
        f.canonical_detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    to_hex(&hasher.finalize())
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex
}

/// An entry as stored, `detail` still as the database's text, which the verifier hashes.
#[derive(Debug, sqlx::FromRow)]
struct StoredEntry {
    county: String,
    seq: i64,
    entity: String,
    entity_id: String,
    action: String,
    actor_id: String,
    from_state: String,
    to_state: String,
    detail: String,
    at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
}

impl StoredEntry {
    fn recompute_hash(&self) -> Result<String, MalformedJson> {
        let detail = canonical_json_text(&self.detail)?;
        Ok(chain_hash(
            &self.prev_hash,
            &HashedFields {
                county: &self.county,
                seq: self.seq,
                entity: &self.entity,
                entity_id: &self.entity_id,
                action: &self.action,
                actor_id: &self.actor_id,
                from_state: &self.from_state,
                to_state: &self.to_state,
                at: self.at,
                canonical_detail: &detail,
            },
        ))
    }

    fn into_entry(self) -> sqlx::Result<AuditEntry> {
        let detail = serde_json::from_str(&self.detail)
            .map_err(|e| sqlx::Error::ColumnDecode { index: "detail".to_owned(), source: Box::new(e) })?;
        Ok(AuditEntry {
            county: self.county,
            seq: self.seq,
            entity: self.entity,
            entity_id: self.entity_id,
            action: self.action,
            actor_id: self.actor_id,
            from_state: self.from_state,
            to_state: self.to_state,
            detail,
            at: self.at,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

fn json_depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Canonical JSON of a value (see the module doc).
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json prints integers in decimal and floats in their shortest round-trip form.
        Value::Number(n) => out.push_str(&canonical_number(&n.to_string())),
        Value::String(s) => write_canonical_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical_string(out, key);
                out.push(':');
                write_canonical(out, item);
            }
            out.push('}');
        }
    }
}

fn write_canonical_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The canonical form of a JSON number token by its decimal value: `[-]digits[e exponent]`.
/// Expects a valid token; exponents beyond i64 saturate (neither serde_json nor PostgreSQL
/// holds such numbers).
fn canonical_number(token: &str) -> String {
    let (negative, rest) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], parse_exponent(&rest[i + 1..])),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    let digits = significant.trim_end_matches('0');
    if digits.is_empty() {
        return "0".to_owned();
    }
    let exponent = exponent
        .saturating_sub(i64::try_from(frac.len()).unwrap_or(i64::MAX))
        .saturating_add(i64::try_from(significant.len() - digits.len()).unwrap_or(i64::MAX));
    let sign = if negative { "-" } else { "" };
    if exponent == 0 { format!("{sign}{digits}") } else { format!("{sign}{digits}e{exponent}") }
}

fn parse_exponent(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i64, |acc, d| acc.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if negative { -magnitude } else { magnitude }
}

#[derive(Debug, thiserror::Error)]
#[error("malformed JSON at byte {at}: {what}")]
struct MalformedJson {
    at: usize,
    what: &'static str,
}

/// Canonical JSON of JSON text, numbers kept as decimal text rather than parsed to `f64`.
fn canonical_json_text(text: &str) -> Result<String, MalformedJson> {
    let mut reader = Reader { text, pos: 0 };
    let mut out = String::with_capacity(text.len());
    reader.value(&mut out, 0)?;
    reader.skip_whitespace();
    if reader.pos != text.len() {
        return Err(reader.error("trailing characters"));
    }
    Ok(out)
}

/// A strict recursive-descent JSON reader writing canonical JSON.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, what: &'static str) -> MalformedJson {
        MalformedJson { at: self.pos, what }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), MalformedJson> {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Result<(), MalformedJson> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => {
                if depth >= MAX_DETAIL_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.pos += 1;
                let mut members = BTreeMap::new();
                self.skip_whitespace();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_whitespace();
                        let key = self.string()?;
                        self.expect(b':', "expected ':'")?;
                        let mut item = String::new();
                        self.value(&mut item, depth + 1)?;
                        if members.insert(key, item).is_some() {
                            return Err(self.error("duplicate key"));
                        }
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error("expected ',' or '}'")),
                        }
                    }
                }
                // BTreeMap<String, _> iterates in byte order of the keys.
                out.push('{');
                for (i, (key, item)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_canonical_string(out, key);
                    out.push(':');
                    out.push_str(item);
                }
                out.push('}');
            }
            Some(b'[') => {
                if depth >= MAX_DETAIL_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.pos += 1;
                out.push('[');
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    let mut first = true;
                    loop {
                        if !first {
                            out.push(',');
                        }
                        first = false;
                        self.value(out, depth + 1)?;
                        self.skip_whitespace();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error("expected ',' or ']'")),
                        }
                    }
                }
                out.push(']');
            }
            Some(b'"') => {
                let s = self.string()?;
                write_canonical_string(out, &s);
            }
            Some(b'-' | b'0'..=b'9') => {
                let token = self.number()?;
                out.push_str(&canonical_number(token));
            }
            _ => {
                for literal in ["true", "false", "null"] {
                    if self.text.get(self.pos..).is_some_and(|rest| rest.starts_with(literal)) {
                        self.pos += literal.len();
                        out.push_str(literal);
                        return Ok(());
                    }
                }
                return Err(self.error("expected a value"));
            }
        }
        Ok(())
    }

    /// A string token, decoded (serde_json handles the escapes exactly).
    fn string(&mut self) -> Result<String, MalformedJson> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string"));
        }
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
                None => return Err(self.error("unterminated string")),
            }
        }
        self.pos += 1;
        let token = self.text.get(start..self.pos).ok_or_else(|| self.error("unterminated string"))?;
        serde_json::from_str(token).map_err(|_| MalformedJson { at: start, what: "invalid string" })
    }

    /// A number token: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<&str, MalformedJson> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        Ok(&self.text[start..self.pos])
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn county() -> CountyCode {
        "330521".parse().expect("county")
    }

    fn at() -> DateTime<Utc> {
        "2025-03-01T08:00:00.123456Z".parse().expect("time")
    }

    fn hash_with(change: impl FnOnce(&mut AuditRecord<'_>, &mut i64, &mut String)) -> String {
        let county = county();
        let mut record = AuditRecord {
            county: &county,
            entity: "suggestion",
            entity_id: "s-1",
            action: "assign",
            actor_id: "u-1",
            from_state: "submitted",
            to_state: "assigned",
            detail: json!({"agency": "交通局", "days": 15}),
            at: at(),
        };
        let mut seq = 7;
        let mut prev = "ab".repeat(32);
        change(&mut record, &mut seq, &mut prev);
        entry_hash(&prev, seq, &record)
    }

    #[test]
    fn hash_is_deterministic_hex_sha256() {
        let a = hash_with(|_, _, _| {});
        assert_eq!(a, hash_with(|_, _, _| {}));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = hash_with(|_, _, _| {});
        let other: CountyCode = "330102".parse().expect("county");
        let changed = [
            hash_with(|_, _, p| *p = GENESIS_HASH.to_owned()),
            hash_with(|_, s, _| *s = 8),
            hash_with(|r, _, _| r.county = Box::leak(Box::new(other.clone()))),
            hash_with(|r, _, _| r.entity = "ballot"),
            hash_with(|r, _, _| r.entity_id = "s-2"),
            hash_with(|r, _, _| r.action = "reject"),
            hash_with(|r, _, _| r.actor_id = "u-2"),
            hash_with(|r, _, _| r.from_state = "draft"),
            hash_with(|r, _, _| r.to_state = "rejected"),
            hash_with(|r, _, _| r.detail = json!({"agency": "交通局", "days": 16})),
            hash_with(|r, _, _| r.at += chrono::Duration::microseconds(1)),
        ];
        for (i, hash) in changed.iter().enumerate() {
            assert_ne!(hash, &base, "change {i} kept the hash");
        }
    }

    #[test]
    fn fields_cannot_shift_into_each_other() {
        let a = hash_with(|r, _, _| {
            r.from_state = "ab";
            r.to_state = "c";
        });
        let b = hash_with(|r, _, _| {
            r.from_state = "a";
            r.to_state = "bc";
        });
        assert_ne!(a, b);
    }

    #[test]
    fn detail_key_order_and_sub_microseconds_do_not_matter() {
        let base = hash_with(|_, _, _| {});
        let mut reordered = serde_json::Map::new();
        reordered.insert("days".to_owned(), json!(15));
        reordered.insert("agency".to_owned(), json!("交通局"));
        assert_eq!(base, hash_with(|r, _, _| r.detail = serde_json::Value::Object(reordered)));
        assert_eq!(base, hash_with(|r, _, _| r.at += chrono::Duration::nanoseconds(999)));
    }

    #[test]
    fn canonical_json_of_values() {
        let value = json!({"b": [1, 1.5, -0.0, 100.0, 1e300, 0.1, "x\"\\\n"], "a": {"z": null, "y": true}});
        assert_eq!(canonical_json(&value), r#"{"a":{"y":true,"z":null},"b":[1,15e-1,0,1e2,1e300,1e-1,"x\"\\\u000a"]}"#);
    }

    #[test]
    fn canonical_json_of_text_matches_the_value() {
        // As PostgreSQL prints jsonb: keys by length, spaces, numbers spelled out in full.
        let text = r#"{"b": [1, 1.50, 0.0, 100, 1000000000000000000000000000000, 0.1, "x\"\\\n", "\u00e9"], "a": {"y": true, "z": null}}"#;
        let value = json!({"a": {"z": null, "y": true}, "b": [1, 1.5, -0.0, 100.0, 1e30, 0.1, "x\"\\\n", "é"]});
        assert_eq!(canonical_json_text(text).expect("canonical"), canonical_json(&value));
    }

    #[test]
    fn canonical_numbers() {
        for (token, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("10", "1e1"),
            ("1.0", "1"),
            ("1e0", "1"),
            ("0.0012300", "123e-5"),
            ("-12.5E+3", "-125e2"),
            ("1.2345678901234567e-30", "12345678901234567e-46"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            assert_eq!(canonical_number(token), canonical, "{token}");
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in ["", "{", "[1,]", "01", "1.", "-", "\"open", "{\"a\":1,\"a\":2}", "tru", "1 2", "{1:2}"] {
            assert!(canonical_json_text(text).is_err(), "{text:?} accepted");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DETAIL_DEPTH + 1), "]".repeat(MAX_DETAIL_DEPTH + 1));
        assert!(canonical_json_text(&deep).is_err());
    }

    #[test]
    fn hex_encoding() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(GENESIS_HASH.len(), 64);
    }
}
