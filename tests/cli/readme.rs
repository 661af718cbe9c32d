//! The README's tour, run as a newcomer runs it: every `sh` block that talks
//! to the service, top to bottom, against the real binary, each output
//! compared with the output the README shows under it (JSON keys, CSV lines).

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

/// The output a block shows: its `# ` comment lines that are JSON or CSV.
fn shown_output(block: &str) -> (Vec<String>, Vec<String>) {
    let mut json = Vec::new();
    let mut csv = Vec::new();
    for line in block.lines() {
        let Some(comment) = line.trim_start().strip_prefix("# ") else {
            continue;
        };
        if comment.starts_with('{') || comment.starts_with(' ') {
            json.push(comment.to_owned());
        } else if comment.starts_with("Report Refresh Date")
            || (comment.len() > 11 && &comment[4..5] == "-" && &comment[10..11] == ",")
        {
            csv.push(comment.to_owned());
        }
    }
    (json, csv)
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
    // Blocks that build, test or open a database shell are not about the API.
    // Each block runs a paragraph (up to a blank line) at a time, so a later
    // paragraph can use the id the output of an earlier one showed.
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
    let mut id: Option<String> = None;
    let mut ran = 0;
    for block in &blocks {
        let mut script = block
            .replace("TOKEN=tus_9fL2...", &format!("TOKEN={token}"))
            .replace("http://127.0.0.1:8080", &server.base);
        // Commands use the id the service gave; comments keep the README's.
        let commands_need_id = script
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("0193..."));
        if commands_need_id {
            let id = id.clone().expect("a created row's id before it is used");
            script = script
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with('#') {
                        l.to_owned()
                    } else {
                        l.replace("0193...", &id)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        // Variables carry over from block to block, as in one terminal.
        let full = format!("set -eu\n{environment}\n{script}\n");
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(&full)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).replace('\u{feff}', "");
        assert!(
            output.status.success(),
            "{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for line in script.lines() {
            if line.starts_with("TOKEN=") || line.starts_with("BASE=") || line.starts_with("ROWS=")
            {
                environment.push_str(line);
                environment.push('\n');
            }
        }
        if id.is_none() {
            id = stdout
                .split("\"id\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned);
        }
        let (json, csv) = shown_output(block);
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
