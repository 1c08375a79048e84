//! The property runner of the workspace's property tests: stable Rust, no test harness of
//! its own, a time budget instead of a case count.

use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// How long each property runs: `HUB_PROPTEST_SECONDS` (20 in `.ci/run`), 3 s by default.
pub fn budget() -> Duration {
    let secs = std::env::var("HUB_PROPTEST_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(3);
    Duration::from_secs(secs)
}

/// Runs `test` on values of `strategy` until the time budget is spent (at least one round
/// of 32 cases), replaying first the stored failures of `source_file` (the caller's
/// `file!()`), whose corpus lives beside it.
pub fn run_for<S: Strategy>(
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let deadline = Instant::now() + budget();
    let mut rounds = 0;
    while rounds == 0 || Instant::now() < deadline {
        let config = Config {
            cases: 32,
            source_file: Some(source_file),
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
                "proptest-regressions",
            ))),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("{e}");
        }
        rounds += 1;
    }
}
