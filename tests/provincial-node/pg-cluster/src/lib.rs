//! A throw-away PostgreSQL 15 cluster for the headquarters' tests and demo: Debian's
//! `postgresql-15` binaries run `initdb` and the server in a fresh temporary directory, listening
//! only on 127.0.0.1 (a free port) and on a Unix socket inside that directory; dropping the
//! [`TemporaryCluster`] stops the server and deletes the directory.
//!
//! The cluster is initialised with `--locale=C.UTF-8 --encoding=UTF8`: `pg_trgm` splits text
//! into trigrams by the `LC_CTYPE`'s notion of a letter, and under the `C` locale Arabic letters
//! are not letters (every Arabic name gives the same empty trigram set). `C.UTF-8` classifies
//! them and is present on every Debian system, unlike `ar_IQ.UTF-8`.
//!
//! `initdb` and `postgres` refuse to run as root, so when this process is root (CI and the
//! development machines run as root) the server runs as the `postgres` system user that Debian's
//! package creates (or `nobody` if it is missing) and the directory is handed to that user.
//! Authentication is `trust`: the server accepts only loopback and its private socket.

#![warn(missing_docs)]

use std::ffi::CString;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian's `postgresql-15` package installs the server binaries.
pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// The superuser every cluster is created with, whatever OS user runs it.
pub const SUPERUSER: &str = "postgres";

/// How long `pg_ctl` may wait for the server to start or stop, in seconds.
const PG_CTL_TIMEOUT_SECONDS: &str = "30";

/// Why a temporary cluster could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The PostgreSQL 15 binaries are not installed.
    #[error("{0} not found: install Debian's `postgresql-15` package (tests/scripts/install-deps.sh does)")]
    NotInstalled(PathBuf),
    /// Running as root and neither `postgres` nor `nobody` exists to run the server as.
    #[error("running as root and there is no `postgres` or `nobody` user to run PostgreSQL as (initdb refuses root)")]
    NoServerUser,
    /// A file-system operation on the temporary directory failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A PostgreSQL command exited with an error.
    #[error("{command} failed ({status}): {output}")]
    Command {
        /// The command, e.g. `initdb`.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed (and of the server log when starting).
        output: String,
    },
    /// A database name that is not a plain identifier.
    #[error("invalid database name '{0}': use lowercase letters, digits and '_' (at most 63), starting with a letter")]
    InvalidDatabaseName(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// The OS user the server processes run as, when this process is root.
#[derive(Debug, Clone, Copy)]
struct ServerUser {
    uid: u32,
    gid: u32,
}

impl ServerUser {
    /// `None` when this process is not root (the server then runs as ourselves).
    fn for_this_process() -> Result<Option<ServerUser>, ClusterError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        ["postgres", "nobody"]
            .iter()
            .find_map(|name| lookup_user(name))
            .map(Some)
            .ok_or(ClusterError::NoServerUser)
    }
}

fn lookup_user(name: &str) -> Option<ServerUser> {
    let name = CString::new(name).ok()?;
    // SAFETY: getpwnam gets a valid NUL-terminated string; the returned record (static storage,
    // possibly null) is read immediately, before any other call could overwrite it.
    unsafe {
        let record = libc::getpwnam(name.as_ptr());
        if record.is_null() {
            None
        } else {
            Some(ServerUser { uid: (*record).pw_uid, gid: (*record).pw_gid })
        }
    }
}

/// A running PostgreSQL 15 server in a temporary directory; dropping it stops the server and
/// removes the directory.
#[derive(Debug)]
pub struct TemporaryCluster {
    directory: tempfile::TempDir,
    port: u16,
    user: Option<ServerUser>,
    running: bool,
}

impl TemporaryCluster {
    /// Creates a cluster in a fresh temporary directory and starts its server (waits until it
    /// accepts connections; at most 30 s).
    pub fn start() -> Result<TemporaryCluster, ClusterError> {
        for program in ["initdb", "pg_ctl", "postgres"] {
            let path = Path::new(BIN_DIR).join(program);
            if !path.exists() {
                return Err(ClusterError::NotInstalled(path));
            }
        }
        let user = ServerUser::for_this_process()?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("pg-cluster-");
        // The server's user must be able to reach the directory: $TMPDIR may sit under root's
        // private directories, /tmp never does.
        let directory = match user {
            Some(_) => builder.tempdir_in("/tmp"),
            None => builder.tempdir(),
        }
        .map_err(io("cannot create a temporary directory"))?;
        let socket_directory = directory.path().join("socket");
        fs::create_dir(&socket_directory).map_err(io("cannot create the socket directory"))?;
        if let Some(user) = user {
            for path in [directory.path(), &socket_directory] {
                std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                    .map_err(io(format!("cannot hand {} to the server's user", path.display())))?;
            }
        }
        fs::set_permissions(directory.path(), fs::Permissions::from_mode(0o700)).map_err(io("cannot restrict the temporary directory"))?;

        let mut cluster = TemporaryCluster { directory, port: 0, user, running: false };
        cluster.run(
            "initdb",
            Command::new(Path::new(BIN_DIR).join("initdb"))
                .arg("--pgdata")
                .arg(cluster.data_directory())
                .args(["--username", SUPERUSER, "--auth", "trust", "--locale=C.UTF-8", "--encoding=UTF8"])
                // Nothing to lose if the machine crashes during initdb: skip its final fsync of
                // every file (seconds on a busy disk). The server itself runs with fsync on.
                .args(["--no-instructions", "--no-sync"]),
        )?;
        // A free port can be taken by someone else between our probe and the server's bind:
        // try a few before giving up.
        let mut attempt = 1;
        loop {
            cluster.port = free_port()?;
            cluster.write_settings()?;
            match cluster.pg_ctl_start() {
                Ok(()) => {
                    cluster.running = true;
                    return Ok(cluster);
                }
                Err(error) if attempt == 3 => return Err(error),
                Err(_) => attempt += 1,
            }
        }
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host the server listens on: always `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The directory holding the server's Unix socket (`.s.PGSQL.<port>`).
    pub fn socket_directory(&self) -> PathBuf {
        self.directory.path().join("socket")
    }

    /// A URL for the `postgres` database as the superuser, e.g.
    /// `postgresql://postgres@127.0.0.1:54321/postgres`.
    pub fn connection_string(&self) -> String {
        self.connection_string_for("postgres")
    }

    /// A URL for database `name` as the superuser.
    pub fn connection_string_for(&self, name: &str) -> String {
        format!("postgresql://{SUPERUSER}@{}:{}/{name}", self.host(), self.port)
    }

    /// Creates database `name` (UTF-8, the cluster's locale) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let plain = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain {
            return Err(ClusterError::InvalidDatabaseName(name.to_string()));
        }
        let createdb = Path::new(BIN_DIR).join("createdb");
        if !createdb.exists() {
            return Err(ClusterError::NotInstalled(createdb));
        }
        self.run(
            "createdb",
            Command::new(createdb)
                .arg("--host")
                .arg(self.socket_directory())
                .args(["--port", &self.port.to_string(), "--username", SUPERUSER, name]),
        )?;
        Ok(self.connection_string_for(name))
    }

    fn data_directory(&self) -> PathBuf {
        self.directory.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.directory.path().join("server.log")
    }

    /// Loopback and the private socket only; fsync on so a test of "committed before the
    /// answer" means what it says.
    fn write_settings(&self) -> Result<(), ClusterError> {
        let settings = format!(
            "# pg-cluster\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = on\nmax_connections = 40\nshared_buffers = 32MB\n",
            self.port,
            self.socket_directory().display()
        );
        // postgresql.auto.conf is read after postgresql.conf and overwritten here on each
        // attempt, so a retry with another port does not pile up settings.
        let path = self.data_directory().join("postgresql.auto.conf");
        fs::write(&path, settings).map_err(io(format!("cannot write {}", path.display())))?;
        if let Some(user) = self.user {
            std::os::unix::fs::chown(&path, Some(user.uid), Some(user.gid)).map_err(io("cannot hand the settings to the server's user"))?;
        }
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        let started = self.run(
            "pg_ctl start",
            Command::new(Path::new(BIN_DIR).join("pg_ctl"))
                .arg("start")
                .arg("--pgdata")
                .arg(self.data_directory())
                .arg("--log")
                .arg(self.log_file())
                .args(["--wait", "--timeout", PG_CTL_TIMEOUT_SECONDS, "--silent"]),
        );
        started.map(drop).map_err(|error| match error {
            ClusterError::Command { command, status, output } => {
                let log = fs::read_to_string(self.log_file()).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                ClusterError::Command { command, status, output: format!("{output} | server log: {}", tail.join(" / ")) }
            }
            other => other,
        })
    }

    /// Runs a PostgreSQL program as the server's user, in the temporary directory (the caller's
    /// working directory may not be readable by that user).
    fn run(&self, name: &str, command: &mut Command) -> Result<Output, ClusterError> {
        command.current_dir(self.directory.path()).env("LC_ALL", "C.UTF-8").env_remove("PGDATA");
        if let Some(user) = self.user {
            command.uid(user.uid).gid(user.gid).env("HOME", self.directory.path());
        }
        let output = command.output().map_err(io(format!("cannot run {name}")))?;
        if output.status.success() {
            return Ok(output);
        }
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Err(ClusterError::Command {
            command: name.to_string(),
            status: output.status.to_string(),
            output: printed.trim().lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / "),
        })
    }
}

impl Drop for TemporaryCluster {
    fn drop(&mut self) {
        // Fast shutdown: roll back open transactions, close connections, checkpoint. pg_ctl
        // waits at most its timeout; the directory goes away with `self.directory` after this.
        if self.running {
            let stopped = self.run(
                "pg_ctl stop",
                Command::new(Path::new(BIN_DIR).join("pg_ctl"))
                    .arg("stop")
                    .arg("--pgdata")
                    .arg(self.data_directory())
                    .args(["--mode", "fast", "--wait", "--timeout", PG_CTL_TIMEOUT_SECONDS, "--silent"]),
            );
            if let Err(error) = stopped {
                eprintln!("pg-cluster: could not stop the server in {}: {error}", self.directory.path().display());
            }
        }
    }
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("cannot find a free port on 127.0.0.1"))?;
    listener.local_addr().map(|address| address.port()).map_err(io("cannot read the probed port"))
}
