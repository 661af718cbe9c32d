//! The service under test: the release binary in its own process, as deployed.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use teams_usage_store::config::DatabaseUrl;

pub struct Server {
    child: Child,
    pub port: u16,
    /// From spawning the process to its first `200` on `/ready`.
    pub startup: Duration,
}

impl Server {
    /// Starts `binary serve` on `url` and waits until `/ready` answers 200.
    pub fn start(binary: &Path, url: &DatabaseUrl, log: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log_file = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let begun = Instant::now();
        let mut child = Command::new(binary)
            .arg("serve")
            // Away from the repository, so no developer's .env takes part.
            .current_dir(log.parent().unwrap_or(Path::new(".")))
            .env("DATABASE_URL", url.expose())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let deadline = begun + Duration::from_secs(60);
        loop {
            if ready(port) {
                break;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("the service exited with {status}; see {}", log.display());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!(
                    "the service was not ready within 60 s; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        Ok(Self {
            startup: begun.elapsed(),
            child,
            port,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn status_file(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{name}", self.child.id()))
    }

    /// Forgets the peak resident set size so far (Linux `clear_refs` 5), so the
    /// next reading is the peak of the next run alone.
    pub fn reset_peak_rss(&self) -> anyhow::Result<()> {
        std::fs::write(self.status_file("clear_refs"), "5").context("resetting VmHWM")
    }

    /// Peak resident set size (VmHWM), bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(self.status_file("status"))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kib * 1024)
    }

    /// The CPU time the service has used so far (user and system, all its
    /// threads), in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(self.status_file("stat"))?;
        // The fields after the command name, which ends with the last ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let tick = |i: usize| -> anyhow::Result<u64> {
            Ok(fields.get(i).context("a short /proc/PID/stat")?.parse()?)
        };
        Ok(tick(11)? + tick(12)?)
    }

    /// SIGTERM, as a supervisor stops it, then waits for the process to exit.
    pub fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One plain HTTP/1.1 request: polled every half millisecond, so the start-up
/// time is not blurred by a client's own start-up.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 200"
}
