//! A plugin that misbehaves on request, to test that the hub survives it.
//!
//! Built with the SDK like any plugin (`export_importer!`, no unsafe of its own except
//! the deliberate segfault). The first line of the input file says what to do; every
//! other line is ignored:
//!
//! | first line | behaviour |
//! |---|---|
//! | `ok N` | N valid firms (`M-1` … `M-N`, district Sialkot) |
//! | `invalid` | three firms; the second has a malformed NTN, the third an unknown district |
//! | `undeclared` | one firm, then a network, a kind its manifest does not declare |
//! | `print` | writes to stdout and stderr, then one valid firm |
//! | `env` | one valid firm, or a panic naming the `HUB__*` variables it can see |
//! | `panic-value` | a first batch, then panics quoting a CNIC the way serde does |
//! | `panic-open` | panics in `open` |
//! | `panic-next` | a first batch of two firms, then panics |
//! | `segfault` | a first batch, then dereferences a null pointer |
//! | `abort` | a first batch, then `std::process::abort()` |
//! | `stack-overflow` | a first batch, then recurses without end |
//! | `hang-open` | never returns from `open` |
//! | `hang-next` | a first batch, then never returns |
//! | `big-batch` | one batch of 5,000 log lines of 200 bytes (about 1 MB) |
//! | `flood` | batches of log lines without end |
//! | `trickle` | one firm every 300 ms, without end |
//!
//! Sniffing panics on a file starting with `sniff-panic` and hangs on one starting with
//! `sniff-hang`.
//!
//! Hangs sleep rather than spin, so that a leaked in-process thread costs no CPU.

use std::io::{BufRead as _, BufReader};
use std::time::Duration;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Confidence, IdentifierValue, ImportError, Importer, ImporterManifest, Input, Item, LogLevel,
    Network, NetworkKind, Organisation, OrganisationKind, RecordKind, RecordStream, SourceRef,
    schemes,
};

/// The importer.
#[derive(Debug, Default)]
pub struct Misbehaving;

hub_plugin_sdk::export_importer!(Misbehaving);

impl Importer for Misbehaving {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new("misbehaving", "Misbehaving test plugin", "0.1.0")
            .with_extensions(["misbehave"])
            .with_emits([RecordKind::Organisation])
    }

    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        if head.starts_with(b"sniff-panic") {
            panic!("sniffing panics on request");
        }
        if head.starts_with(b"sniff-hang") {
            hang();
        }
        if head.starts_with(b"ok ") || head.starts_with(b"invalid") {
            Confidence::new(95)
        } else {
            Confidence::NONE
        }
    }

    fn open(
        &mut self,
        input: Input,
        _options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let file = std::fs::File::open(&input.path)?;
        let mut first = String::new();
        BufReader::new(file).read_line(&mut first)?;
        let mut words = first.split_whitespace();
        let mode = words.next().unwrap_or_default().to_owned();
        let count = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        match mode.as_str() {
            "panic-open" => panic!("open panics on request"),
            "hang-open" => hang(),
            "print" => {
                println!("a plugin writing to stdout must not corrupt the hub's pipe");
                eprintln!("a plugin writing to stderr");
            }
            _ => {}
        }
        Ok(Box::new(Script {
            mode,
            count,
            file: input.file_name,
            calls: 0,
        }))
    }
}

/// The stream: what it does on each call depends on the mode.
struct Script {
    mode: String,
    count: u64,
    file: String,
    calls: u64,
}

impl Script {
    fn firm(&self, row: u64) -> Item {
        let mut firm = Organisation::new(
            format!("M-{row}"),
            OrganisationKind::Firm,
            format!("Misbehaving Works {row}"),
        );
        firm.district = Some("Sialkot".into());
        Item::record(SourceRef::row(self.file.clone(), row), firm)
    }
}

impl RecordStream for Script {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        self.calls += 1;
        let first = self.calls == 1;
        let batch = match self.mode.as_str() {
            "ok" => {
                let start = (self.calls - 1) * max as u64;
                let end = (start + max as u64).min(self.count);
                (start < end).then(|| (start + 1..=end).map(|row| self.firm(row)).collect())
            }
            "print" => first.then(|| vec![self.firm(1)]),
            "env" => {
                let seen: Vec<String> = std::env::vars_os()
                    .map(|(key, _)| key.to_string_lossy().into_owned())
                    .filter(|key| key.starts_with("HUB__"))
                    .collect();
                if !seen.is_empty() {
                    panic!("the plugin sees {}", seen.join(", "));
                }
                first.then(|| vec![self.firm(1)])
            }
            "invalid" => first.then(|| {
                let mut items = vec![self.firm(1)];
                let mut bad_ntn = Organisation::new("M-2", OrganisationKind::Firm, "Bad NTN Works");
                bad_ntn
                    .identifiers
                    .push(IdentifierValue::new(schemes::NTN, "12"));
                items.push(Item::record(SourceRef::row(self.file.clone(), 2), bad_ntn));
                let mut bad_district =
                    Organisation::new("M-3", OrganisationKind::Firm, "Nowhere Works");
                bad_district.district = Some("Atlantis".into());
                items.push(Item::record(
                    SourceRef::row(self.file.clone(), 3),
                    bad_district,
                ));
                items
            }),
            "undeclared" => first.then(|| {
                let network = Network {
                    source_key: "N-1".into(),
                    name: "Undeclared network".into(),
                    kind: NetworkKind::Horizontal,
                    cluster: None,
                    programme: None,
                    lead_organisation_key: None,
                    formed_on: None,
                    dissolved_on: None,
                    description: None,
                };
                vec![
                    self.firm(1),
                    Item::record(SourceRef::row(self.file.clone(), 2), network),
                ]
            }),
            "panic-next" | "panic-value" | "segfault" | "abort" | "stack-overflow"
            | "hang-next"
                if first =>
            {
                Some(vec![self.firm(1), self.firm(2)])
            }
            "panic-next" => panic!("next_batch panics on request"),
            "panic-value" => panic!("invalid type: string \"35202-1234567-1\", expected u32"),
            "segfault" => segfault(),
            "abort" => std::process::abort(),
            "stack-overflow" => Some(vec![self.firm(recurse(1))]),
            "hang-next" => hang(),
            "big-batch" => first.then(|| logs(5_000)),
            "flood" => Some(logs(1_000)),
            "trickle" => {
                std::thread::sleep(Duration::from_millis(300));
                Some(vec![self.firm(self.calls)])
            }
            other => {
                return Err(ImportError::new(format!(
                    "unknown mode {other:?} on the first line"
                )));
            }
        };
        Ok(batch)
    }
}

fn logs(count: usize) -> Vec<Item> {
    (0..count)
        .map(|_| Item::log(LogLevel::Debug, "x".repeat(200)))
        .collect()
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[allow(unsafe_code)]
fn segfault() -> ! {
    // SAFETY: none; crashing is the point of this mode.
    unsafe { std::ptr::null_mut::<u64>().write_volatile(1) };
    unreachable!("the write above crashes")
}

/// Recursion the optimiser cannot turn into a loop.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(frame[0] + 1) + frame[63]
}
