//! The binary's allocator, mimalloc, and how the memory it no longer uses
//! goes back to the system (decision 0030). A module of the binary
//! (`main.rs`), not of the library: the tests run on the system allocator.
//!
//! mimalloc keeps the pages a thread freed for that thread's next
//! allocations, and hands free memory back to the system only from within
//! its own calls, once the purge delay (1 s) is over. A gateway that goes
//! quiet after a burst makes no more calls, and kept its peak resident
//! forever. So:
//!
//! - each runtime worker collects its free pages when it runs out of work
//!   (`on_thread_park`), at most every [`COLLECT_EVERY`]: so whatever a
//!   worker freed before going idle is no longer held by it;
//! - a background tick collects every [`TICK`] on the worker it runs on,
//!   which also hands back what any thread freed once the purge delay is
//!   over (mimalloc purges its arenas program-wide).

use std::cell::Cell;
use std::time::{Duration, Instant};

// glibc's allocator spent a third of the gateway's time under load in
// malloc/free and its arena locks (perf, `make bench`); mimalloc's
// per-thread heaps do not contend (decision 0010).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A worker collects at most this often: under load workers park thousands
/// of times a second, and a collection walks the thread's pages.
const COLLECT_EVERY: Duration = Duration::from_millis(10);

/// How often the background tick collects.
const TICK: Duration = Duration::from_secs(1);

/// The multi-threaded runtime whose workers collect when they go idle.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(collect_if_due)
        .build()
}

/// Collects every [`TICK`], forever (spawn it on the runtime).
pub async fn tick() {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        collect();
    }
}

fn collect_if_due() {
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let now = Instant::now();
    let due = LAST.with(|last| {
        let due = last
            .get()
            .is_none_or(|at| now.duration_since(at) >= COLLECT_EVERY);
        if due {
            last.set(Some(now));
        }
        due
    });
    if due {
        collect();
    }
}

/// Frees this thread's empty pages and purges, program-wide, what the purge
/// delay no longer holds; not forced: pages with live blocks are left alone.
fn collect() {
    // SAFETY: mi_collect takes no pointer; it works on the calling thread's
    // own heap and on mimalloc's arenas under their locks.
    unsafe { libmimalloc_sys::mi_collect(false) }
}
