//! One headless chromium per test, through its own chromedriver on a free port.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

/// A browser session and the driver process behind it.
pub struct Browser {
    pub driver: WebDriver,
    pub downloads: tempfile::TempDir,
    chromedriver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

fn required() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
    set("CI") || set("TEST_REQUIRE_BROWSER")
}

/// A program from `PATH` (or the variable naming it).
fn find_program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    /// `None` (the test is skipped, with a message) when chromium or
    /// chromedriver is missing and neither `CI` nor `TEST_REQUIRE_BROWSER` is set.
    pub async fn start() -> Option<Self> {
        let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            assert!(
                !required(),
                "CI or TEST_REQUIRE_BROWSER is set but chromium or chromedriver is missing: \
                 apt-get install chromium chromium-driver"
            );
            // Straight to stderr, past libtest's capture, so a passing run still says it.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED a browser test: chromium and chromedriver are not installed \
                 (apt-get install chromium chromium-driver; set TEST_REQUIRE_BROWSER=1 to make this an error)"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut process = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = process.kill();
                panic!("chromedriver did not listen on {port}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let downloads = tempfile::tempdir().unwrap();
        let mut capabilities = DesiredCapabilities::chrome();
        capabilities.set_binary(chromium.to_str().unwrap()).unwrap();
        for arg in [
            "--headless=new",
            // Root in a container has no user namespace to sandbox with.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1000",
            "--lang=en-US",
        ] {
            capabilities.add_arg(arg).unwrap();
        }
        capabilities
            .add_experimental_option(
                "prefs",
                json!({
                    "download.default_directory": downloads.path().to_str().unwrap(),
                    "download.prompt_for_download": false,
                }),
            )
            .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), capabilities)
            .await
            .expect("a chromium session");
        Some(Self {
            driver,
            downloads,
            chromedriver: process,
        })
    }

    /// Runs `script` (its `return` value comes back as JSON).
    /// Clicks the element with this id.
    pub async fn click(&self, id: &str) {
        self.driver
            .find(By::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Sets the window to `width` x `height` pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.driver
            .set_window_rect(0, 0, width, height)
            .await
            .unwrap();
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.driver
            .execute(script, Vec::new())
            .await
            .unwrap()
            .json()
            .clone()
    }

    /// Waits until `condition` (a JS expression) is true; panics after 15 s.
    pub async fn wait_for(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let script = format!("return Boolean({condition});");
        while self.eval(&script).await != json!(true) {
            if Instant::now() > deadline {
                let status = self
                    .eval("return document.getElementById('status').textContent")
                    .await;
                panic!("timed out waiting for {what}; status: {status}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Saves the window as `target/dashboard-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        self.driver.screenshot(&path).await.unwrap();
        path
    }

    /// The first finished download, waited for up to 15 s.
    pub async fn downloaded_file(&self) -> (String, Vec<u8>) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let done = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.extension().is_some_and(|e| e == "csv"));
            if let Some(path) = done {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                return (name, std::fs::read(path).unwrap());
            }
            assert!(Instant::now() < deadline, "no download appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
