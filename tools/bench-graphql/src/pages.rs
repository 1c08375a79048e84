//! `--pages`: how long the pages for agency staff take, on `hub demo` (SQLite, the
//! embedded default).
//!
//! Starts `hub demo` on a fresh data directory, then for each page (`/`, a cluster profile,
//! the firm directory, a firm) measures the time to the last byte of the whole page:
//! one request after another from one connection (what a reader waits for), and under
//! closed-loop load from `--connections` connections for `--seconds`. Prints the page
//! sizes, p50, p99 and the largest time, requests per second under load, and the target:
//! a cluster profile rendered in under 100 ms at p99 from one connection, every page under
//! 300 KB.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::load;

/// Sequential requests per page after the warm-up.
const SEQUENTIAL: usize = 300;
const WARM_UP: usize = 20;

/// One page's figures.
struct Measured {
    path: String,
    bytes: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    loaded: load::Measured,
}

/// Runs the measurement with the hub at `hub_path`.
pub fn run(hub_path: &str, connections: usize, seconds: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(hub_path)
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("HUB__LOG__FILTER", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {hub_path} demo"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut base = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(addr) = line.strip_prefix("hub: listening on ") {
            base = Some(addr.trim().to_owned());
            break;
        }
    }
    // Keep reading what the hub prints, so that it never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let Some(base) = base else {
        let _ = child.kill();
        bail!("hub demo stopped before listening");
    };
    let result = measure(&base, connections, seconds);
    let _ = child.kill();
    let _ = child.wait();
    let pages = result?;
    report(&pages);
    Ok(())
}

fn get(agent: &ureq::Agent, url: &str) -> anyhow::Result<String> {
    let mut r = agent.get(url).call().with_context(|| url.to_owned())?;
    if r.status() != 200 {
        bail!("{url}: {}", r.status());
    }
    Ok(r.body_mut().read_to_string()?)
}

fn measure(base: &str, connections: usize, seconds: u64) -> anyhow::Result<Vec<Measured>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let directory = get(&agent, &format!("{base}/firms"))?;
    let at = directory
        .find("data-firm=\"")
        .context("a firm in the directory")?
        + 11;
    let firm = &directory[at..at + directory[at..].find('"').context("firm id")?];
    let paths = [
        "/".to_owned(),
        "/clusters/sialkot-surgical".to_owned(),
        "/firms".to_owned(),
        format!("/firms/{firm}"),
    ];
    let mut out = Vec::new();
    for path in paths {
        let url = format!("{base}{path}");
        let mut bytes = 0;
        for _ in 0..WARM_UP {
            bytes = get(&agent, &url)?.len();
        }
        let mut times = Vec::with_capacity(SEQUENTIAL);
        for _ in 0..SEQUENTIAL {
            let started = Instant::now();
            get(&agent, &url)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let request = Arc::new(load::Request {
            url: Box::new({
                let url = url.clone();
                move |_| url.clone()
            }),
            body: None,
            check: Box::new(|body: &str| body.contains("</html>")),
            auth: None,
        });
        let loaded = load::run(&request, connections, Duration::from_secs(seconds));
        out.push(Measured {
            path,
            bytes,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: times[times.len() - 1],
            loaded,
        });
    }
    Ok(out)
}

fn report(pages: &[Measured]) {
    println!(
        "| page | HTML | one connection: p50 | p99 | max | under load: req/s | p50 | p99 | failures |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for p in pages {
        println!(
            "| `{}` | {:.1} KB | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} | {:.1} ms | {:.1} ms | {} |",
            p.path,
            p.bytes as f64 / 1024.0,
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.loaded.per_second,
            p.loaded.p50_ms,
            p.loaded.p99_ms,
            p.loaded.failures
        );
    }
    let mut missed = Vec::new();
    if let Some(cluster) = pages
        .iter()
        .find(|p| p.path.starts_with("/clusters/") && p.p99_ms >= 100.0)
    {
        missed.push(format!(
            "the cluster profile's p99 is {:.1} ms (target under 100 ms)",
            cluster.p99_ms
        ));
    }
    for p in pages {
        if p.bytes >= 300 * 1024 {
            missed.push(format!(
                "`{}` is {} bytes (target under 300 KB)",
                p.path, p.bytes
            ));
        }
        if p.loaded.failures > 0 {
            missed.push(format!(
                "`{}` failed {} times under load",
                p.path, p.loaded.failures
            ));
        }
    }
    if missed.is_empty() {
        println!("\nTargets met: cluster profile under 100 ms at p99, every page under 300 KB.");
    } else {
        println!("\nTargets missed:");
        for m in missed {
            println!("- {m}");
        }
    }
}
