//! A closed-loop load generator: `connections` threads, each with its own keep-alive
//! connection, send one request after another for a fixed time and record each latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub requests: u64,
    pub failures: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// A request to send: POST `url` with the JSON `body(i)` when `body` is set, else GET
/// `url(i)`; `i` counts the requests of the thread, so that lookups can vary.
pub struct Request {
    pub url: Box<dyn Fn(u64) -> String + Send + Sync>,
    pub body: Option<Box<dyn Fn(u64) -> String + Send + Sync>>,
    /// Checks an answer's body; a request whose body fails it counts as a failure.
    pub check: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// `Authorization` header value, if any.
    pub auth: Option<String>,
}

/// Runs `request` from `connections` threads for `duration`.
pub fn run(request: &Arc<Request>, connections: usize, duration: Duration) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|t| {
            let (request, stop) = (request.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_idle_connections_per_host(1)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let mut latencies = Vec::with_capacity(65_536);
                let mut failures = 0u64;
                let mut i = t as u64 * 7919;
                while !stop.load(Ordering::Relaxed) {
                    let url = (request.url)(i);
                    let sent = Instant::now();
                    let answer = match &request.body {
                        Some(body) => {
                            let mut post =
                                agent.post(&url).header("Content-Type", "application/json");
                            if let Some(auth) = &request.auth {
                                post = post.header("Authorization", auth);
                            }
                            post.send((body)(i))
                        }
                        None => agent.get(&url).call(),
                    };
                    let ok = match answer {
                        Ok(mut r) => {
                            r.status() == 200
                                && r.body_mut()
                                    .read_to_string()
                                    .is_ok_and(|text| (request.check)(&text))
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed().as_micros() as u64);
                    if !ok {
                        failures += 1;
                    }
                    i += 1;
                }
                (latencies, failures)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut failures = 0;
    for thread in threads {
        if let Ok((latencies, failed)) = thread.join() {
            all.extend(latencies);
            failures += failed;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let quantile = |q: f64| {
        if all.is_empty() {
            return 0.0;
        }
        let at = ((all.len() as f64 - 1.0) * q).round() as usize;
        all[at] as f64 / 1000.0
    };
    Measured {
        requests: all.len() as u64,
        failures,
        per_second: all.len() as f64 / elapsed,
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
    }
}
