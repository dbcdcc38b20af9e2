//! A Redis server of the test's own, on a free port, that the test can stop
//! and start again, empty or from a snapshot (the shared one on 6379 must
//! stay up for other tests).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRedis {
    pub port: u16,
    child: Option<Child>,
    /// Where [`TestRedis::snapshot`] writes and a restart reads.
    dir: tempfile::TempDir,
}

impl TestRedis {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            port,
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port: empty, or with what the
    /// last [`TestRedis::snapshot`] held.
    pub fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (make test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Writes what the server holds now to disk: [`TestRedis::resume`]
    /// starts from it after a [`TestRedis::stop`], as a Redis restarted with
    /// persistence, restored from a backup, or failed over to a replica that
    /// lagged would.
    pub fn snapshot(&self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut reply = [0u8; 5];
        stream.write_all(b"SAVE\r\n").unwrap();
        stream.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"+OK\r\n");
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The ids of the connections that have the Redis at `url` track keys for
/// them in broadcast mode: one per gateway that has made it.
pub async fn tracking_connection_ids(url: &str) -> Vec<u64> {
    let mut connection = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let clients: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut connection)
        .await
        .unwrap();
    clients
        .lines()
        .filter_map(|client| {
            let field = |name: &str| {
                client
                    .split(' ')
                    .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            };
            field("flags")?.contains('B').then_some(())?;
            field("id")?.parse().ok()
        })
        .collect()
}

/// Where `app` says it knows the generation from (`/health/ready`).
pub async fn generation_source(app: &super::TestApp) -> String {
    let ready = app.readiness().await;
    ready["cache"]["generation"].as_str().unwrap().to_owned()
}

/// Waits until `app` says where it knows the generation from is `source`.
pub async fn wait_for_generation_source(app: &super::TestApp, source: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while generation_source(app).await != source {
        assert!(
            Instant::now() < deadline,
            "the generation never came {source}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until Redis tracks the generation for `app`.
pub async fn wait_until_tracked(app: &super::TestApp) {
    wait_for_generation_source(app, "tracked").await;
}

/// Asks again until `seen` holds. A gateway other than the writer drops
/// the generation a write moved once it has read Redis's invalidation,
/// which Redis sends before it acknowledges the write but the gateway
/// reads in its own time (an instant).
pub async fn once_invalidated<T, F: std::future::Future<Output = T>>(
    mut ask: impl FnMut() -> F,
    seen: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = ask().await;
        if seen(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "the invalidation never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
