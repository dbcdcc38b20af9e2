//! Keeps the catalogue generation in process while Redis says when it
//! changes: server-assisted client-side caching (`CLIENT TRACKING ON BCAST`)
//! on a RESP3 connection of its own. A cached answer then costs no Redis
//! round trip; while that connection is not there (not made yet, lost,
//! Redis restarting, a Redis that refuses tracking) the generation is read
//! from Redis at every request.
//!
//! Redis queues the invalidation while it runs the write, before it replies
//! to the writer; another replica stops serving older answers once its
//! connection has read that message (normally within the same millisecond).
//! A connection that went silent is trusted for at most two [`HEARTBEAT`]s
//! plus the Redis timeout after its last answer. A replica forgets the generation
//! it bumps itself before the write is acknowledged.
//!
//! The watch also keeps the least generation that can be current (the
//! highest read, plus one once Redis says a known one moved): a Redis that
//! comes back with an older generation (restored from a snapshot, failed
//! over to a lagging replica) is caught by the first replica that knew
//! better, at the latest when its tracking connection is made again, and
//! the generation is moved past every earlier one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, RedisError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::redis_store::raise_generation;
use crate::background::BackgroundTasks;

/// How often the tracking connection must prove it is alive (a peer that
/// vanished without closing it sends nothing).
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long to wait before making a lost tracking connection again.
const RECONNECT: Duration = Duration::from_secs(1);
/// How long to wait before asking again a Redis that refused tracking.
const REFUSED: Duration = Duration::from_secs(60);

pub struct GenerationWatch {
    state: Arc<Mutex<Watched>>,
    /// How long after the tracking connection's last answer it is still trusted.
    lease: Duration,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Watched {
    /// Moves at every invalidation and whenever tracking starts or stops.
    epoch: u64,
    /// When the tracking connection last answered; `None` while there is none.
    alive_at: Option<Instant>,
    generation: Option<u64>,
    /// No generation below this one can be current.
    floor: u64,
}

impl Watched {
    /// What was kept may be stale.
    fn invalidate(&mut self) {
        self.epoch += 1;
        self.generation = None;
    }

    /// The generation moved: it is now above the one known.
    fn moved(&mut self) {
        if let Some(known) = self.generation {
            self.floor = self.floor.max(known + 1);
        }
        self.invalidate();
    }

    /// Takes note of `generation`, read from or written to Redis; `Some(floor)`
    /// when it is older than a generation seen before.
    fn observe(&mut self, generation: u64) -> Option<u64> {
        if generation < self.floor {
            return Some(self.floor);
        }
        self.floor = generation;
        None
    }

    fn start_tracking(&mut self) {
        self.invalidate();
        self.alive_at = Some(Instant::now());
    }

    fn stop_tracking(&mut self) {
        self.invalidate();
        self.alive_at = None;
    }
}

fn lock(state: &Mutex<Watched>) -> MutexGuard<'_, Watched> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// When a reader asked Redis for the generation: what it read can be kept
/// only if nothing moved since.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl GenerationWatch {
    /// Watches `key` on the Redis `client` talks to, from a task among
    /// `tasks` (stopped when they are, or when the watch is dropped); to be
    /// called within a Tokio runtime.
    pub fn start(
        client: &redis::Client,
        key: String,
        timeout: Duration,
        tasks: &BackgroundTasks,
    ) -> Self {
        let info = client.get_connection_info().clone();
        let settings = info.redis_settings().clone();
        let info = info.set_redis_settings(settings.set_protocol(ProtocolVersion::RESP3));
        let state = Arc::default();
        let task = tasks.spawn(watch(Arc::clone(&state), info, key, timeout));
        Self {
            state,
            // One missed beat (a busy process) does not drop tracking.
            lease: 2 * HEARTBEAT + timeout,
            task,
        }
    }

    /// The current generation, when it is known here.
    pub fn known(&self) -> Option<u64> {
        let watched = lock(&self.state);
        watched.generation.filter(|_| self.alive(&watched))
    }

    /// Whether Redis tracks the generation for us now.
    pub fn tracking(&self) -> bool {
        self.alive(&lock(&self.state))
    }

    fn alive(&self, watched: &Watched) -> bool {
        watched.alive_at.is_some_and(|at| at.elapsed() < self.lease)
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(lock(&self.state).epoch)
    }

    /// Keeps `generation`, read from Redis since `ticket` was taken, unless
    /// it may be stale already.
    pub fn keep(&self, ticket: Ticket, generation: u64) {
        let mut watched = lock(&self.state);
        if watched.alive_at.is_some() && watched.epoch == ticket.0 {
            watched.generation = Some(generation);
        }
    }

    /// Forgets the generation (this replica just moved it): the next reader asks Redis.
    pub fn forget(&self) {
        lock(&self.state).moved();
    }

    /// Takes note of `generation`, read from or written to Redis; `Some(floor)`
    /// when it is older than a generation this replica saw before: Redis
    /// went back in time, and the generation must be moved past `floor`.
    pub fn observe(&self, generation: u64) -> Option<u64> {
        lock(&self.state).observe(generation)
    }
}

impl Drop for GenerationWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn watch(
    state: Arc<Mutex<Watched>>,
    info: redis::ConnectionInfo,
    key: String,
    timeout: Duration,
) {
    let mut warned = false;
    loop {
        let error = track(&state, &info, &key, timeout).await;
        lock(&state).stop_tracking();
        let unreachable = error.is_io_error()
            || error.is_timeout()
            || error.is_connection_refusal()
            || error.is_connection_dropped();
        if unreachable {
            tracing::debug!(%error, "lost the Redis connection tracking the generation");
            tokio::time::sleep(RECONNECT).await;
        } else {
            // Redis < 6, a proxy, an ACL: the gateway works, at one GET per cached answer.
            if !std::mem::replace(&mut warned, true) {
                tracing::warn!(%error, "Redis does not track the generation for us; reading it at every request");
            }
            tokio::time::sleep(REFUSED).await;
        }
    }
}

/// Has Redis track `key` for us, and listens until the connection fails.
async fn track(
    state: &Arc<Mutex<Watched>>,
    info: &redis::ConnectionInfo,
    key: &str,
    timeout: Duration,
) -> RedisError {
    let lost = Arc::new(Notify::new());
    let (listener, on_loss) = (Arc::clone(state), Arc::clone(&lost));
    // The connection's own task hands invalidations over as it reads them.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_push_sender(move |push: PushInfo| {
            match push.kind {
                PushKind::Invalidate => lock(&listener).moved(),
                PushKind::Disconnection => {
                    lock(&listener).stop_tracking();
                    on_loss.notify_one();
                }
                _ => {}
            }
            Ok::<(), std::convert::Infallible>(())
        });
    let connected = async {
        let mut connection: MultiplexedConnection = redis::Client::open(info.clone())?
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .arg("BCAST")
            .arg("PREFIX")
            .arg(key)
            .exec_async(&mut connection)
            .await?;
        Ok::<_, RedisError>(connection)
    };
    let mut connection = match connected.await {
        Ok(connection) => connection,
        Err(error) => return error,
    };
    // Redis may be back with an older generation and no reader here yet.
    let current: Result<Option<u64>, RedisError> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut connection)
        .await;
    let regressed = match current {
        Ok(current) => current.and_then(|current| lock(state).observe(current)),
        Err(error) => return error,
    };
    if let Some(floor) = regressed
        && let Err(error) = raise_generation(&mut connection, key, floor).await
    {
        return error;
    }
    lock(state).start_tracking();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            () = lost.notified() => {
                return std::io::Error::from(std::io::ErrorKind::ConnectionReset).into();
            }
            _ = heartbeat.tick() => {
                if let Err(error) = redis::cmd("PING").exec_async(&mut connection).await {
                    return error;
                }
                // Invalidations sent before the reply have been handled by now.
                if let Some(alive_at) = lock(state).alive_at.as_mut() {
                    *alive_at = Instant::now();
                }
            }
        }
    }
}
