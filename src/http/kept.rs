//! HTTP bodies kept whole in the response cache with their ETag (REST
//! answers, standard formats), under a key their route builds, stamped with
//! the catalogue generation as GraphQL answers are. A hit skips the work of
//! rendering the body and hashing its ETag: for REST, reading the
//! parameters, looking the GraphQL answer up and cutting its root field out,
//! which made a cached REST answer cost four times a cached `/graphql` one
//! (decision 0029).

use bytes::{BufMut, Bytes, BytesMut};

use super::AppState;
use super::caching::etag_of;
use crate::cache::Lookup;

/// A kept body and its ETag.
pub struct Kept {
    pub etag: String,
    pub body: Bytes,
}

/// Where a body is kept, or was looked for.
pub enum Slot {
    /// The cache holds it.
    Hit(Kept),
    /// Not yet: keep it under `key`, stamped with `generation`.
    Miss { key: String, generation: u64 },
    /// Answers are not cached, or the store cannot say.
    None,
}

/// Looks up the body kept under `key` (a [`crate::cache::cache_key`]
/// whose operation name is no GraphQL name, so that it cannot meet a
/// GraphQL answer's).
pub async fn look_up(state: &AppState, key: impl FnOnce() -> String) -> Slot {
    if !state.cache_answers {
        return Slot::None;
    }
    let key = key();
    match state.cache.answer(&key).await {
        Some(Lookup::Hit(kept)) => match decode(kept) {
            Some(kept) => {
                state.cache_counters.hit();
                Slot::Hit(kept)
            }
            // Not written by `keep`: answered afresh, and not kept over it.
            None => Slot::None,
        },
        Some(Lookup::Miss { generation }) => Slot::Miss { key, generation },
        None => Slot::None,
    }
}

/// Keeps `body` under `key` in `generation`; its ETag, computed once here.
/// (The GraphQL answers it was rendered from were counted as hits or misses.)
pub async fn keep(state: &AppState, key: &str, generation: u64, body: Bytes) -> Kept {
    let etag = etag_of(&body);
    let mut value = BytesMut::with_capacity(etag.len() + 1 + body.len());
    value.put_slice(etag.as_bytes());
    value.put_u8(b'\n');
    value.put_slice(&body);
    state.cache.put(key, generation, &value).await;
    Kept { etag, body }
}

/// The ETag and body of a kept value: the ETag's line, then the body.
fn decode(value: Bytes) -> Option<Kept> {
    let end = value.iter().position(|&byte| byte == b'\n')?;
    let etag = std::str::from_utf8(&value[..end]).ok()?.to_owned();
    Some(Kept {
        etag,
        body: value.slice(end + 1..),
    })
}
