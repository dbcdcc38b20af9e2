//! REST answers kept whole in the response cache: the body a route sends
//! and its ETag, keyed by the route, its path value, the raw query string
//! and the caller's audience, and stamped with the catalogue generation as
//! GraphQL answers are. A hit skips reading the parameters, looking up the
//! GraphQL answer, cutting its root field out and hashing the ETag: the
//! work that made a cached REST answer cost four times a cached `/graphql`
//! one (decision 0029).

use bytes::{BufMut, Bytes, BytesMut};

use super::AppState;
use super::caching::etag_of;
use crate::cache::{Lookup, cache_key};
use crate::catalogue::Audience;

/// A kept REST answer: its ETag and body.
pub struct Kept {
    pub etag: String,
    pub body: Bytes,
}

/// Where a REST answer is kept, or was looked for.
pub enum Slot {
    /// The cache holds it.
    Hit(Kept),
    /// Not yet: keep it under `key`, stamped with `generation`.
    Miss { key: String, generation: u64 },
    /// Answers are not cached, or the store cannot say.
    None,
}

/// The key of a REST answer. `route` is the route's path as OpenAPI writes
/// it (`/api/v1/projects/{slug}`), never a GraphQL operation name (which
/// has no `/`), so REST keys cannot meet GraphQL ones.
fn key(route: &str, path_value: Option<&str>, query: &str, audience: Audience) -> String {
    cache_key(audience, Some(route), path_value.unwrap_or_default(), query)
}

/// Looks up the answer of `route` to this path value and query string for
/// `audience`.
pub async fn look_up(
    state: &AppState,
    route: &str,
    path_value: Option<&str>,
    query: &str,
    audience: Audience,
) -> Slot {
    if !state.cache_answers {
        return Slot::None;
    }
    let key = key(route, path_value, query, audience);
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
/// (The GraphQL answer it came from was counted as a hit or a miss.)
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
