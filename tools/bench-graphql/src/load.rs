//! Load generators. Each of `connections` threads has its own keep-alive connection:
//! - [`run`], a closed loop: each thread sends one request after another for a fixed time;
//! - [`paced`], an open loop: the threads together send `rate` requests per second on a
//!   fixed schedule (a thread behind its schedule sends at once). Each latency counts from
//!   the time the request was sent. Counting from the time it was due instead (as wrk2
//!   does, so that an answer slow enough to hold up the next request counts in both) was
//!   tried: on two shared cores it counted the load generator's own wake-up delays, and
//!   gave `node(id)` a p99 of 20-30 ms against 9 ms in the closed loop. At half the
//!   floor's pace the threads are seldom behind; how often they were is reported, in two
//!   parts: requests held up by the thread's previous answer (still awaited when the next
//!   was due: the coordinated omission an open loop exists to avoid, as the slow stretch
//!   is sampled less), and requests sent late only because the thread woke late from its
//!   sleep (the generator waiting for a core; such a request's latency still counts from
//!   when it was sent, in full);
//! - [`sequence`], a fixed number of requests one after the other (`--instructions`).

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
    /// Paced runs: the requests sent later than due by more than a millisecond.
    pub late: u64,
    /// Paced runs: of those, the requests whose thread was still awaiting its previous
    /// answer a millisecond after the request was due.
    pub held: u64,
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

impl Request {
    /// Sends request number `i` on `agent`: whether the answer passed the check.
    fn send(&self, agent: &ureq::Agent, i: u64) -> bool {
        let url = (self.url)(i);
        let answer = match &self.body {
            Some(body) => {
                let mut post = agent.post(&url).header("Content-Type", "application/json");
                if let Some(auth) = &self.auth {
                    post = post.header("Authorization", auth);
                }
                post.send((body)(i))
            }
            None => agent.get(&url).call(),
        };
        match answer {
            Ok(mut r) => {
                r.status() == 200
                    && r.body_mut()
                        .read_to_string()
                        .is_ok_and(|text| (self.check)(&text))
            }
            Err(_) => false,
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(1)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends requests `first..first + count` one after the other on one connection: how many
/// failed.
pub fn sequence(request: &Request, first: u64, count: u64) -> u64 {
    let agent = agent();
    (first..first + count)
        .filter(|&i| !request.send(&agent, i))
        .count() as u64
}

/// Runs `request` from `connections` threads for `duration`, each sending its next
/// request as soon as the last is answered.
pub fn run(request: &Arc<Request>, connections: usize, duration: Duration) -> Measured {
    drive(request, connections, duration, None)
}

/// Sends `request` at `rate` requests per second in all from `connections` threads for
/// `duration`; each latency counts from the time the request was sent.
pub fn paced(
    request: &Arc<Request>,
    connections: usize,
    rate: f64,
    duration: Duration,
) -> Measured {
    drive(request, connections, duration, Some(rate.max(1.0)))
}

fn drive(
    request: &Arc<Request>,
    connections: usize,
    duration: Duration,
    rate: Option<f64>,
) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|t| {
            let (request, stop) = (request.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                // Each thread's share of the schedule, its first request staggered.
                let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
                let mut due = interval.map(|i| started + i.mul_f64(t as f64 / connections as f64));
                let mut latencies = Vec::with_capacity(65_536);
                let (mut failures, mut late, mut held) = (0u64, 0u64, 0u64);
                let mut answered = started;
                let mut i = t as u64 * 7919;
                let end = started + duration;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(at) = due {
                        // Never asleep past the end of the run.
                        if at >= end {
                            break;
                        }
                        let now = Instant::now();
                        if at > now {
                            std::thread::sleep(at - now);
                        }
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        if at.elapsed() > Duration::from_millis(1) {
                            late += 1;
                            if answered > at + Duration::from_millis(1) {
                                held += 1;
                            }
                        }
                    }
                    let sent = Instant::now();
                    let ok = request.send(&agent, i);
                    answered = Instant::now();
                    latencies.push((answered - sent).as_micros() as u64);
                    if !ok {
                        failures += 1;
                    }
                    due = due.zip(interval).map(|(at, every)| at + every);
                    i += 1;
                }
                (latencies, failures, late, held)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let (mut failures, mut late, mut held) = (0, 0, 0);
    for thread in threads {
        if let Ok((latencies, failed, sent_late, held_up)) = thread.join() {
            all.extend(latencies);
            failures += failed;
            late += sent_late;
            held += held_up;
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
        late,
        held,
    }
}
