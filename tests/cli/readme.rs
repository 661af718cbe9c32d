//! The README's tour, run as a newcomer runs it: every `sh` block that talks
//! to the service, top to bottom, against the real binary, each output
//! compared with the output the README shows under it (status lines, header
//! names, JSON keys, CSV lines). The commands run as written: an id the
//! service gives is carried by the README's own variables, never pasted in.

use crate::common::Backend;
use crate::Sandbox;

/// The fenced blocks of `language` in `markdown`, in order.
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == format!("```{language}") => current = Some(String::new()),
            Some(block) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The JSON keys (`"name":`) in `text`.
fn json_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let key = &after[..end];
        let tail = &after[end + 1..];
        if tail.trim_start().starts_with(':') && !key.is_empty() && key != "..." {
            keys.push(key.to_owned());
        }
        rest = tail;
    }
    keys
}

/// What a block shows of its output, from its `# ` comment lines.
#[derive(Default)]
struct Shown {
    json: Vec<String>,
    csv: Vec<String>,
    /// Status lines (`HTTP/1.1 201 Created`) and bare status codes (`-w '%{http_code}'`).
    statuses: Vec<String>,
    /// Names of the headers shown (`location: ...`).
    headers: Vec<String>,
}

fn shown_output(block: &str) -> Shown {
    let mut shown = Shown::default();
    for line in block.lines() {
        let Some(comment) = line.trim_start().strip_prefix("# ") else {
            continue;
        };
        let header = comment
            .split_once(": ")
            .map(|(name, _)| name)
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            });
        if comment.starts_with('{') || comment.starts_with(' ') {
            shown.json.push(comment.to_owned());
        } else if comment.starts_with("Report Refresh Date")
            || (comment.len() > 11 && &comment[4..5] == "-" && &comment[10..11] == ",")
        {
            shown.csv.push(comment.to_owned());
        } else if comment.starts_with("HTTP/")
            || (comment.len() == 3 && comment.chars().all(|c| c.is_ascii_digit()))
        {
            shown.statuses.push(comment.to_owned());
        } else if let Some(name) = header {
            shown.headers.push(name.to_owned());
        }
    }
    shown
}

/// The names a script assigns (`NAME=...` at the start of a command line).
fn assigned_names(script: &str) -> Vec<String> {
    let mut names: Vec<String> = script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| {
            name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect();
    names.dedup();
    names
}

backend_tests!(the_readme_tour_gives_the_output_it_shows);

async fn the_readme_tour_gives_the_output_it_shows(backend: Backend) {
    let Some(sandbox) = Sandbox::new(backend).await else {
        return;
    };
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let server = sandbox.serve();
    let token = server.bootstrap_token().unwrap();
    let variables = tempfile::NamedTempFile::new().unwrap();
    // Blocks that build, test or open a database shell are not about the API.
    // Each block runs a paragraph (up to a blank line) at a time, so each
    // paragraph's output is compared with what it shows.
    let blocks: Vec<String> = fenced_blocks(&readme, "sh")
        .into_iter()
        .filter(|b| b.contains("curl") || b.contains("BASE="))
        .flat_map(|b| {
            b.split("\n\n")
                .map(str::to_owned)
                .filter(|p| {
                    p.lines()
                        .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(blocks.len() >= 8, "{blocks:?}");
    let mut environment = String::new();
    let mut ran = 0;
    for block in &blocks {
        // Copied as they are: no placeholder left for the reader to fill in.
        for line in block.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !line.contains("0193...") && !line.contains('<'),
                "a placeholder in a command: {line}"
            );
        }
        // The one thing a newcomer types in: the token the first start showed.
        let script = block
            .replace("TOKEN=tus_9fL2...", &format!("TOKEN={token}"))
            .replace("http://127.0.0.1:8080", &server.base)
            .replace("cargo run --release --", crate::BIN);
        // Variables carry over from paragraph to paragraph, as in one terminal.
        let names = assigned_names(&script);
        let keep = if names.is_empty() {
            String::new()
        } else {
            format!(
                "declare -p {} > '{}'\n",
                names.join(" "),
                variables.path().display()
            )
        };
        let full = format!("set -eu\n{environment}\n{script}\n{keep}");
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(&full)
            .current_dir(sandbox.dir.path())
            .env("DATABASE_URL", sandbox.database.url.expose())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).replace('\u{feff}', "");
        assert!(
            output.status.success(),
            "{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if !names.is_empty() {
            environment.push_str(&std::fs::read_to_string(variables.path()).unwrap());
        }
        let Shown {
            json,
            csv,
            statuses,
            headers,
        } = shown_output(block);
        for status in statuses {
            assert!(
                stdout.lines().any(|l| l.trim_end() == status),
                "the README shows {status:?} after\n{block}\nbut the service answered\n{stdout}"
            );
        }
        for name in headers {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.to_ascii_lowercase().starts_with(&format!("{name}: "))),
                "the README shows the header {name:?} after\n{block}\nbut the service answered\n{stdout}"
            );
        }
        for key in json_keys(&json.join("\n")) {
            assert!(
                stdout.contains(&format!("\"{key}\":")),
                "the README shows {key:?} after\n{block}\nbut the service answered\n{stdout}"
            );
        }
        for line in csv {
            assert!(
                stdout.lines().any(|l| l.trim_end() == line),
                "the README shows {line:?} after\n{block}\nbut the service answered\n{stdout}"
            );
        }
        ran += 1;
    }
    assert_eq!(ran, blocks.len());
}
