//! `--instructions`: the work of one request, counted in machine instructions instead of
//! timed, for the hub and for its actix floor.
//!
//! Requests per second on a shared machine move by a third from one run to the next (other
//! tenants, the load generator on the same cores), which hides a change of 10-15% in what
//! the hub does per request. Instructions do not: the hub and the floor each run under
//! Valgrind's callgrind, which counts the instructions a process executes whatever else the
//! machine does. Per question, after [`WARM_UP`] requests (plans, caches, connections), the
//! counters are zeroed (`callgrind_control --zero`), `--requests` requests are sent one
//! after the other on one connection, and the counters are dumped (`--dump`): the total
//! over the requests is the instructions of one request, every thread of the process
//! included (HTTP, GraphQL, the pool and, on SQLite, the database engine itself; on
//! PostgreSQL the server's work is another process's and is not counted, for the hub as
//! for the floor). Repeated runs of one binary agree within about 1%.
//!
//! The ratio printed, floor over hub, reads like the throughput ratio of the main report
//! (1.0x: the hub does no more than the floor) but without the noise, and without what the
//! load generator and the database server take of the cores. It is not the throughput
//! ratio: instructions are not all equally fast (cache misses, system calls, thread
//! switches), and under load the threads wait for each other.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use super::{Args, Killed, load, queries};

/// The requests sent before counting, to each server, per question.
pub const WARM_UP: u64 = 20;

/// One question's counts.
pub struct Counted {
    pub engine: String,
    pub question: &'static str,
    pub what: &'static str,
    /// Instructions per request: the hub's, the floor's.
    pub hub: u64,
    pub floor: u64,
}

/// Counts the instructions per request of the lists (or the questions `--only` names) on
/// the hub and on its floor, both run under callgrind, with their dumps in `work`.
pub fn measure(
    args: &Args,
    engine: &str,
    env: &[(String, String)],
    work: &Path,
) -> anyhow::Result<Vec<Counted>> {
    super::migrate(args, env)?;
    let auth = format!("Bearer {}", super::analyst_key(args, env)?);
    let hub_out = work.join(format!("callgrind-hub-{engine}.out"));
    let floor_out = work.join(format!("callgrind-floor-{engine}.out"));
    let (hub, base) = super::start(
        super::with_env(callgrind(&hub_out, Path::new(&args.hub), "serve")?, env),
        "hub: listening on ",
    )?;
    let (floor, floor_base) = super::start(
        super::with_env(
            callgrind(&floor_out, &std::env::current_exe()?, "floor")?,
            env,
        ),
        "floor: listening on ",
    )?;
    let ids = super::firm_ids(&floor_base)?;
    let mut rows = Vec::new();
    // The lists unless `--only` names others: an aggregate's floor recomputes it from the
    // raw rows on every request, which takes minutes under callgrind.
    for q in super::questions(args, |q| q.target != queries::Target::Aggregate) {
        let hub_count = count(
            &hub,
            &hub_out,
            &super::hub_request(&q, &base, &auth, ids),
            args.requests,
        )
        .with_context(|| format!("{engine} {}: the hub", q.name))?;
        let floor_count = count(
            &floor,
            &floor_out,
            &super::floor_request(&q, &floor_base, ids),
            args.requests,
        )
        .with_context(|| format!("{engine} {}: the floor", q.name))?;
        eprintln!(
            "bench-graphql: {engine} {}: hub {hub_count} instructions a request, floor {floor_count}",
            q.name
        );
        rows.push(Counted {
            engine: engine.to_owned(),
            question: q.name,
            what: q.what,
            hub: hub_count,
            floor: floor_count,
        });
    }
    Ok(rows)
}

/// `program subcommand` under callgrind, its dumps written to `out.N`; old dumps removed.
fn callgrind(out: &Path, program: &Path, subcommand: &str) -> anyhow::Result<Command> {
    for old in dumps(out)? {
        std::fs::remove_file(old.1)?;
    }
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg("--quiet")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-instr=no")
        .arg("--dump-line=no")
        .arg(program)
        .arg(subcommand);
    Ok(command)
}

/// The dumps of `out` (`out.1`, `out.2`, ...), by number.
fn dumps(out: &Path) -> anyhow::Result<Vec<(u64, PathBuf)>> {
    let dir = out.parent().context("no directory")?;
    let stem = out
        .file_name()
        .and_then(|n| n.to_str())
        .context("no file name")?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(stem))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(number) = number {
            found.push((number, path));
        }
    }
    found.sort();
    Ok(found)
}

/// The instructions per request of `request` on `server`: [`WARM_UP`] requests, the
/// counters zeroed, `n` requests, the counters dumped and read.
fn count(server: &Killed, out: &Path, request: &load::Request, n: u64) -> anyhow::Result<u64> {
    let failed = load::sequence(request, 0, WARM_UP);
    if failed > 0 {
        bail!("{failed} of {WARM_UP} warm-up answers failed the check");
    }
    control(server, "--zero")?;
    let failed = load::sequence(request, WARM_UP, n);
    let before = dumps(out)?.last().map_or(0, |d| d.0);
    control(server, "--dump")?;
    if failed > 0 {
        bail!("{failed} of {n} answers failed the check");
    }
    // callgrind_control returns once the dump is requested; the file is complete when its
    // `totals:` line is there.
    let started = std::time::Instant::now();
    loop {
        if let Some((number, path)) = dumps(out)?.pop()
            && number > before
            && let Some(total) = totals(&std::fs::read_to_string(&path)?)
        {
            return Ok(total / n.max(1));
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            bail!("no complete callgrind dump after {}", out.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The `totals:` line of a callgrind dump (its last line: the dump is complete).
pub fn totals(dump: &str) -> Option<u64> {
    dump.lines()
        .rev()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// `callgrind_control OPTION PID`.
fn control(server: &Killed, option: &str) -> anyhow::Result<()> {
    let done = Command::new("callgrind_control")
        .arg(option)
        .arg(server.0.id().to_string())
        .output()
        .context("callgrind_control (Debian's valgrind package)")?;
    if !done.status.success() {
        bail!(
            "callgrind_control {option}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    Ok(())
}

/// The report: per question, the instructions of a request on each server and their ratio.
pub fn report(args: &Args, rows: &[Counted]) {
    println!(
        "\n{} firms, {} Comtrade flows; instructions per request under callgrind, {} requests \
         one after the other after {WARM_UP} to warm up (SQLite's work counted in the \
         process, PostgreSQL's not)\n",
        args.firms, args.flows, args.requests
    );
    println!("| engine | question | hub instructions | floor instructions | floor / hub |");
    println!("|---|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} ({}) | {} | {} | {:.2}x |",
            r.engine,
            r.question,
            r.what,
            r.hub,
            r.floor,
            r.floor as f64 / r.hub.max(1) as f64
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_totals_line_is_read_only_from_a_complete_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 166417665\n\nfn=(1) main\n3 10\ntotals: 166471366\n";
        assert_eq!(totals(dump), Some(166_471_366));
        // Cut before its end: no totals yet.
        assert_eq!(totals(&dump[..dump.find("totals").unwrap()]), None);
    }
}
