//! What an entry of an in-process cache (moka) takes besides its key's and
//! value's own allocations: the hash table's bucket, the shared key, the
//! entry's bookkeeping (weight, access and write times), its nodes in the
//! access-order and write-order lists or the expiry timer wheel, and its
//! frequency counters. Every cache's weigher adds it, so that a budget in
//! bytes holds for small entries too: a 100-byte answer under a 70-byte key
//! takes about three times what the two alone weigh.

/// At least what moka 0.12 takes per entry beyond the key and the value
/// themselves (their `size_of` and what they allocate), as the test below
/// measures it.
pub const ENTRY_BYTES: usize = 448;

/// The weight of an entry of a `moka` cache of `K` to `V` whose key and
/// value allocate `heap_bytes` together.
pub fn weight<K, V>(heap_bytes: usize) -> u32 {
    let inline = std::mem::size_of::<K>() + std::mem::size_of::<V>();
    u32::try_from(ENTRY_BYTES + inline + heap_bytes).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use moka::future::Cache;

    use super::weight;
    use crate::heap_count::live;

    /// Per-entry expiry, as the answer cache has: the heaviest bookkeeping.
    struct Ttl;

    impl moka::Expiry<String, (Bytes, Duration)> for Ttl {
        fn expire_after_create(
            &self,
            _: &String,
            value: &(Bytes, Duration),
            _: Instant,
        ) -> Option<Duration> {
            Some(value.1)
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_entry_takes_at_most_entry_bytes_besides_its_key_and_value() {
        for count in [1_000, 5_000, 20_000, 70_000] {
            let before = live();
            let cache: Cache<String, (Bytes, Duration)> = Cache::builder()
                .max_capacity(u64::MAX)
                .weigher(|_: &String, _: &(Bytes, Duration)| 1)
                .expire_after(Ttl)
                .build();
            let mut weighed = 0;
            for n in 0..count {
                let key = format!("catalogue:answer:{n:064x}");
                let value = Bytes::copy_from_slice(&[b'x'; 100]);
                weighed +=
                    weight::<String, (Bytes, Duration)>(key.capacity() + value.len()) as usize;
                cache.insert(key, (value, Duration::from_secs(300))).await;
            }
            cache.run_pending_tasks().await;
            assert_eq!(cache.entry_count(), count as u64);
            let held = usize::try_from(live() - before).unwrap();
            eprintln!(
                "{count} entries: {} bytes held each, {} weighed",
                held / count,
                weighed / count
            );
            assert!(
                weighed >= held,
                "{count} entries: weighed {weighed}, hold {held}"
            );
            // And not so much more that the cache would keep few answers.
            assert!(
                2 * held >= weighed,
                "{count} entries: weighed {weighed}, hold {held}"
            );
        }
    }
}
