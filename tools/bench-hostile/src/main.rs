//! Hostile requests against a hub serving the demo dataset: each request of the hardening
//! issue is sent, alone, and measured.
//!
//! ```sh
//! cargo build --release -p hub
//! cargo run --release -p bench-hostile [-- --hub target/release/hub]
//! ```
//!
//! For each request it prints the HTTP status and error code, the seconds until the answer,
//! the server's peak resident memory above its level before the request (sampled every
//! 5 ms from `/proc/PID/status`), and the slowest `/healthz` answer while the request ran
//! (asked every 50 ms from another thread). The bounds: refused within 2 s, memory growth
//! under 200 MB, `/healthz` answering throughout.
//!
//! Then the hostile files, at their real sizes, through `hub import` (see [`files`]).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

mod files;

/// The command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "bench-hostile",
    about = "Hostile requests and files against a hub serving the demo data set, each \
             measured alone: status, seconds, memory growth, /healthz meanwhile."
)]
struct Args {
    /// The hub binary to measure.
    #[arg(long, value_name = "PATH", default_value = "target/release/hub")]
    hub: String,
}

fn main() -> anyhow::Result<()> {
    let Args { hub } = clap::Parser::parse();
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(&hub)
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("HUB__LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {hub}"))?;
    let base = listening(&mut child)?;
    let pid = child.id();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();

    println!(
        "| request | status | code | seconds | RSS growth MiB | slowest /healthz ms |\n|---|---:|---|---:|---:|---:|"
    );
    for (name, body) in attacks() {
        let before = rss(pid);
        let peak = Arc::new(AtomicU64::new(before));
        let slowest = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (peak, running) = (peak.clone(), running.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let prober = {
            let (slowest, running, agent, url) = (
                slowest.clone(),
                running.clone(),
                agent.clone(),
                format!("{base}/healthz"),
            );
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let _ = agent.get(&url).call();
                    slowest.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        let started = Instant::now();
        let answer = agent
            .post(&format!("{base}/graphql"))
            .header("Accept", "application/graphql-response+json")
            .send_json(&body);
        let secs = started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_millis(100));
        running.store(false, Ordering::Relaxed);
        let _ = sampler.join();
        let _ = prober.join();
        let (status, code) = match answer {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let json: Value = r.body_mut().read_json().unwrap_or(Value::Null);
                let code = json["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or("-")
                    .to_owned();
                (status, code)
            }
            Err(e) => (0, format!("{e}")),
        };
        let grown = peak.load(Ordering::Relaxed).saturating_sub(before) as f64 / 1048576.0;
        println!(
            "| {name} | {status} | {code} | {secs:.3} | {grown:.1} | {} |",
            slowest.load(Ordering::Relaxed)
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    files::run(&hub, dir.path())
}

/// Reads the child's `hub: listening on http://ADDR` line.
fn listening(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(url) = line.strip_prefix("hub: listening on ") {
            return Ok(url.trim().to_owned());
        }
    }
    anyhow::bail!("the hub ended before listening")
}

/// The resident memory of `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// `fragment F0 { a0: __typename ...F1 ...F1 } …`: 2^25 fields from 1.5 KB.
fn doubling(field: &str) -> String {
    let mut q = String::from("{ ...F0 }\n");
    for i in 0..25 {
        q.push_str(&format!(
            "fragment F{i} on Query {{ a{i}: __typename ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    q.push_str(&format!("fragment F25 on Query {{ {field} }}\n"));
    q
}

/// The requests of the hardening issue, by name.
fn attacks() -> Vec<(&'static str, Value)> {
    let words: String = (0..13_800).map(|i| format!("w{i} ")).collect();
    let or: Vec<String> = (0..15_000)
        .map(|i| format!("{{name: {{eq: \"f{i}\"}}}}"))
        .collect();
    let nested = format!(
        "{{ firms(filter: {}{{name: {{eq: \"x\"}}}}{}) {{ totalCount }} }}",
        "{or: [".repeat(30_000),
        "]}".repeat(30_000)
    );
    let values: Vec<String> = (0..32_766).map(|i| format!("\"v{i}\"")).collect();
    let mut chain = String::from("name");
    for _ in 0..5 {
        chain = format!("name interfaces {{ name possibleTypes {{ {chain} }} }}");
    }
    let aliases: String = (0..2_400)
        .map(|i| {
            format!(
                "a{i}: firmByIdentifier(scheme: \"PK-NTN\", value: \"1234567-{}\") {{ name }} ",
                i % 10
            )
        })
        .collect();
    vec![
        (
            "search of 13,800 words",
            json!({ "query": "query($s: String) { firms(search: $s) { totalCount } }", "variables": { "s": words } }),
        ),
        (
            "`or` of 15,000 filters",
            json!({ "query": format!("{{ firms(filter: {{or: [{}]}}) {{ totalCount }} }}", or.join(",")) }),
        ),
        ("`or` nested 30,000 deep", json!({ "query": nested })),
        (
            "`in` of 32,766 values",
            json!({ "query": format!("{{ firms(filter: {{name: {{in: [{}]}}}}) {{ totalCount }} }}", values.join(",")) }),
        ),
        (
            "`contains` of 50,000 characters",
            json!({ "query": "query($c: String) { firms(filter: {name: {contains: $c}}) { totalCount } }", "variables": { "c": "x".repeat(50_000) } }),
        ),
        (
            "fragments doubling 25 times (__typename)",
            json!({ "query": doubling("__typename") }),
        ),
        (
            "fragments doubling 25 times (a list)",
            json!({ "query": doubling("clusters { totalCount }") }),
        ),
        (
            "introspection chain 5 deep",
            json!({ "query": format!("{{ __schema {{ types {{ {chain} }} }} }}") }),
        ),
        (
            "2,400 aliases of firmByIdentifier",
            json!({ "query": format!("{{ {aliases}}}") }),
        ),
    ]
}
