//! A PostgreSQL cluster of the soak's own (initdb in a temporary directory,
//! on a free port), which it may crash and restart without touching the
//! shared server other tests use.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct OwnPostgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

/// Where `initdb` and `pg_ctl` are: on the PATH, else in Debian's
/// `/usr/lib/postgresql/<newest>/bin`.
fn postgres_bin() -> PathBuf {
    if let Ok(output) = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        && output.status.success()
    {
        let pg_ctl = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if let Some(dir) = pg_ctl.parent() {
            return dir.to_path_buf();
        }
    }
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's programs (make test installs them) in /usr/lib/postgresql")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let newest = versions.last().expect("a PostgreSQL version installed");
    PathBuf::from(format!("/usr/lib/postgresql/{newest}/bin"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

impl OwnPostgres {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("catalogue-soak-pg")
            .tempdir()
            .expect("a temporary directory");
        let data = dir.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let postgres = Self {
            port,
            bin: postgres_bin(),
            data,
            _dir: dir,
        };
        if is_root() {
            // PostgreSQL refuses to run as root: its files belong to `postgres`.
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(postgres._dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the soak's PostgreSQL directory");
        }
        let mut initdb = postgres.command("initdb");
        initdb
            .arg("-D")
            .arg(&postgres.data)
            .args(["-A", "trust", "-U", "postgres"]);
        run(initdb, "initdb");
        postgres.restart();
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as a crash would (`-m immediate`: no checkpoint,
    /// recovery from the WAL at the next start).
    pub fn crash(&self) {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// Starts the server again (after [`OwnPostgres::crash`]).
    pub fn restart(&self) {
        self.pg_ctl(&["start", "-w"]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.socket_dir().display()
        );
        let mut command = self.command("pg_ctl");
        command
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &options, "-l"])
            .arg(self.log())
            .args(args);
        run(command, "pg_ctl");
    }

    fn socket_dir(&self) -> &Path {
        self._dir.path()
    }

    fn log(&self) -> PathBuf {
        self._dir.path().join("postgres.log")
    }

    /// `program` from PostgreSQL's bin directory, as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

fn run(mut command: Command, program: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D".as_ref(), self.data.as_os_str()])
            .args(["stop", "-m", "immediate"])
            .output();
    }
}
