//! Keeps the catalogue generation in process while Redis says when it
//! changes: server-assisted client-side caching (`CLIENT TRACKING ON BCAST`)
//! on a RESP3 connection of its own. A cached answer then costs no Redis
//! round trip; while that connection is not there (not made yet, lost,
//! Redis restarting) the generation is read from Redis at every request.
//!
//! Redis queues the invalidation while it runs the write, before it replies
//! to the writer, so another replica stops serving older answers as soon as
//! its connection has read that message (the same instant, give or take the
//! scheduling of one task); a replica forgets the generation it bumps itself
//! before the write is acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often the tracking connection is checked (a peer that vanished
/// without closing it sends nothing), and how long to wait before making it again.
const HEARTBEAT: Duration = Duration::from_secs(1);

pub struct GenerationWatch {
    state: Arc<Watched>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Watched {
    now: Mutex<Now>,
}

#[derive(Default)]
struct Now {
    /// Moves at every invalidation and whenever tracking starts or stops.
    epoch: u64,
    tracking: bool,
    generation: Option<u64>,
}

/// When a reader asked Redis for the generation: what it read can be kept
/// only if nothing moved since.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl Watched {
    fn now(&self) -> std::sync::MutexGuard<'_, Now> {
        self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation moved: what was kept is stale.
    fn invalidate(&self) {
        let mut now = self.now();
        now.epoch += 1;
        now.generation = None;
    }

    /// Redis will (or will no longer) say when the generation moves.
    fn set_tracking(&self, tracking: bool) {
        let mut now = self.now();
        now.epoch += 1;
        now.tracking = tracking;
        now.generation = None;
    }
}

impl GenerationWatch {
    /// Watches `key` on the Redis `client` talks to, from a task of its own
    /// (stopped when the watch is dropped).
    pub fn start(client: &redis::Client, key: String, timeout: Duration) -> Self {
        let info = client.get_connection_info().clone();
        let settings = info.redis_settings().clone();
        let info = info.set_redis_settings(settings.set_protocol(ProtocolVersion::RESP3));
        let state = Arc::new(Watched::default());
        let task = tokio::spawn(watch(state.clone(), info, key, timeout));
        Self { state, task }
    }

    /// The current generation, when it is known here.
    pub fn known(&self) -> Option<u64> {
        self.state.now().generation
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.state.now().epoch)
    }

    /// Keeps `generation`, read from Redis since `ticket` was taken, unless
    /// it may be stale already.
    pub fn keep(&self, ticket: Ticket, generation: u64) {
        let mut now = self.state.now();
        if now.tracking && now.epoch == ticket.0 {
            now.generation = Some(generation);
        }
    }

    /// Forgets the generation (this replica just moved it): the next reader asks Redis.
    pub fn forget(&self) {
        self.state.invalidate();
    }
}

impl Drop for GenerationWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn watch(state: Arc<Watched>, info: redis::ConnectionInfo, key: String, timeout: Duration) {
    loop {
        if let Err(error) = track(&state, &info, &key, timeout).await {
            tracing::debug!(%error, "Redis does not track the generation for us; reading it at every request");
        }
        state.set_tracking(false);
        tokio::time::sleep(HEARTBEAT).await;
    }
}

/// Has Redis track `key` for us, and listens until the connection is lost.
async fn track(
    state: &Arc<Watched>,
    info: &redis::ConnectionInfo,
    key: &str,
    timeout: Duration,
) -> redis::RedisResult<()> {
    let lost = Arc::new(Notify::new());
    let (listener, on_loss) = (state.clone(), lost.clone());
    // The connection's own task hands invalidations over as it reads them.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_push_sender(move |push: PushInfo| {
            match push.kind {
                PushKind::Invalidate => listener.invalidate(),
                PushKind::Disconnection => {
                    listener.set_tracking(false);
                    on_loss.notify_one();
                }
                _ => {}
            }
            Ok::<(), std::convert::Infallible>(())
        });
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
    state.set_tracking(true);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            () = lost.notified() => return Ok(()),
            _ = heartbeat.tick() => redis::cmd("PING").exec_async(&mut connection).await?,
        }
    }
}
