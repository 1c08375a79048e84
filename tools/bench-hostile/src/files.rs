//! Hostile and unlucky files at their real sizes, each through `hub import --json` on the
//! demo database with the default bounds: the seconds until the answer, the import's peak
//! resident memory (its `ru_maxrss`, from `wait4`), and what the report says. The bound:
//! every hostile file refused (or its hostile rows) within 512 MB peak RSS.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;
use zip::write::SimpleFileOptions;

/// Writes each file, imports it and prints a row of the table.
pub fn run(hub: &str, data_dir: &Path) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    println!("\n| file | size | outcome | seconds | peak RSS MiB |\n|---|---:|---|---:|---:|");
    type Writer = fn(&Path) -> anyhow::Result<()>;
    let files: [(&str, &str, Writer); 6] = [
        (
            "cells.xlsx",
            "XLSX whose sheet unpacks to 600 MB of valid cells",
            cells_workbook,
        ),
        (
            "zeros.xlsx",
            "XLSX whose sheet unpacks to 2 GiB of zeros",
            zeros_workbook,
        ),
        (
            "name.csv",
            "CSV with a 50 MB firm name between good rows",
            long_name,
        ),
        (
            "header.csv",
            "CSV: a 50 MB header without a line end",
            long_header,
        ),
        (
            "rows.csv",
            "CSV of 1,048,577 rows (one over the bound)",
            many_rows,
        ),
        (
            "mixed.csv",
            "CSV in UTF-8 with one Windows-1252 byte on the last of 5,001 rows",
            mixed,
        ),
    ];
    for (name, what, write) in files {
        let path = dir.path().join(name);
        write(&path).with_context(|| format!("writing {name}"))?;
        let size = std::fs::metadata(&path)?.len();
        let started = Instant::now();
        let (report, peak) = import(hub, data_dir, &path)?;
        let secs = started.elapsed().as_secs_f64();
        std::fs::remove_file(&path)?;
        println!(
            "| {what} | {} | {} | {secs:.2} | {:.0} |",
            size_text(size),
            outcome(&report),
            peak as f64 / 1_048_576.0
        );
    }
    Ok(())
}

/// `hub import FILE --json --allow-partial`: the report and the peak RSS in bytes.
fn import(hub: &str, data_dir: &Path, file: &Path) -> anyhow::Result<(Value, u64)> {
    let child = Command::new(hub)
        .arg("import")
        .arg(file)
        .args(["--json", "--allow-partial", "--source", "bench-hostile"])
        .env("HUB__DATA_DIR", data_dir)
        .env("HUB__LOG__FILTER", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {hub} import"))?;
    let id = child.id();
    let mut stdout = child.stdout.context("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let peak = wait4(id)?;
    let text = reader.join().unwrap_or_default();
    let report = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((report, peak))
}

/// Reaps the child `pid` and returns its peak resident memory in bytes.
#[allow(
    unsafe_code,
    reason = "wait4 is the one call that gives a child's own peak memory; std has no wrapper"
)]
fn wait4(pid: u32) -> anyhow::Result<u64> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is a child of this process that nothing else waits for; both
        // pointers are valid for writes for the call.
        let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
        if reaped == pid {
            return Ok(u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024);
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error.into());
        }
    }
}

/// What the report says, briefly: the status and the error, or the rows rejected and
/// warnings with the first issue's code.
fn outcome(report: &Value) -> String {
    let status = report["status"].as_str().unwrap_or("no report");
    if let Some(error) = report["error"].as_str() {
        let error = error.replace('|', "/");
        let short: String = error.chars().take(110).collect();
        return format!(
            "{status}: {short}{}",
            if error.len() > short.len() { "…" } else { "" }
        );
    }
    let codes: Vec<String> = report["issues"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .take(2)
                .map(|i| {
                    format!(
                        "{} row {}",
                        i["code"].as_str().unwrap_or("?"),
                        i["row"].as_u64().map_or("-".to_owned(), |r| r.to_string())
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{status}: {} rows read, {} rejected, {} warnings ({})",
        report["rows_read"],
        report["rejected"],
        report["warnings"],
        codes.join(", ")
    )
}

fn size_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else {
        format!("{:.0} KB", n as f64 / 1e3)
    }
}

/// A one-sheet XLSX whose sheet XML is written by `sheet`.
fn workbook(
    path: &Path,
    sheet: impl FnOnce(&mut zip::ZipWriter<BufWriter<File>>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut zip = zip::ZipWriter::new(BufWriter::new(File::create(path)?));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .large_file(true);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Firms" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.start_file("xl/worksheets/sheet1.xml", options)?;
    sheet(&mut zip)?;
    zip.finish()?.flush()?;
    Ok(())
}

fn cells_workbook(path: &Path) -> anyhow::Result<()> {
    workbook(path, |zip| {
        zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Name of Unit</t></is></c><c r="B1" t="inlineStr"><is><t>District</t></is></c></row>"#)?;
        let mut written = 0usize;
        let mut row = 2u64;
        while written < 600_000_000 {
            let line = format!(
                r#"<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>Sialkot Surgical Works</t></is></c><c r="B{row}" t="inlineStr"><is><t>Sialkot</t></is></c></row>"#
            );
            zip.write_all(line.as_bytes())?;
            written += line.len();
            row += 1;
        }
        zip.write_all(b"</sheetData></worksheet>")?;
        Ok(())
    })
}

fn zeros_workbook(path: &Path) -> anyhow::Result<()> {
    workbook(path, |zip| {
        let block = vec![0u8; 1 << 20];
        for _ in 0..2048 {
            zip.write_all(&block)?;
        }
        Ok(())
    })
}

fn long_name(path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"Name of Unit,District\nAlpha Surgical,Sialkot\n")?;
    let block = vec![b'N'; 1 << 20];
    for _ in 0..50 {
        out.write_all(&block)?;
    }
    out.write_all(b",Sialkot\nGamma Surgical,Sialkot\n")?;
    out.flush()?;
    Ok(())
}

fn long_header(path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut written = 0;
    while written < 50_000_000 {
        out.write_all(b"Name of Unit,District,")?;
        written += 22;
    }
    out.flush()?;
    Ok(())
}

fn many_rows(path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"Name of Unit,District\n")?;
    for i in 1..=1_048_576u32 {
        writeln!(out, "Firm {i},Lahore")?;
    }
    out.flush()?;
    Ok(())
}

fn mixed(path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"Name of Unit,District\n")?;
    for i in 1..5000 {
        writeln!(out, "Caf\u{e9} Works {i},Lahore")?;
    }
    out.write_all(b"Caf\xE9 Last,Lahore\n")?;
    out.flush()?;
    Ok(())
}
