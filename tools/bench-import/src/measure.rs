//! Running a child process with its wall-clock time and peak resident set size.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// What a timed run of a process gave.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub status: ExitStatus,
    pub wall: Duration,
    /// The highest `VmHWM` seen in `/proc/<pid>/status`, in bytes; 0 when never read.
    pub peak_rss: u64,
}

/// Runs `cmd` to its end, reading its `VmHWM` (the kernel's own peak RSS, so a sample
/// misses only growth in the last interval) every 20 ms.
pub fn run(cmd: &mut Command) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_path)
            .ok()
            .as_deref()
            .and_then(vm_hwm)
        {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Measured {
        status,
        wall: started.elapsed(),
        peak_rss: peak,
    })
}

/// The `VmHWM:` line of `/proc/<pid>/status`, in bytes.
fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_vm_hwm() {
        let status = "Name:\thub\nVmPeak:\t  200 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(super::vm_hwm(status), Some(12345 * 1024));
        assert_eq!(super::vm_hwm("Name:\tzombie\n"), None);
    }
}
