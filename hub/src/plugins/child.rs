//! `hub plugin-host`: the child process that loads one plugin library and serves the
//! parent's requests over a pipe (see [`super::wire`] for the protocol).
//!
//! Before loading the library, the child moves its frame channel off file descriptor 1:
//! frames go to a duplicate of the original stdout, while fd 1 is pointed at stderr and
//! fd 0 at `/dev/null`. A plugin that prints, or reads stdin, therefore cannot corrupt the
//! protocol. The child reads no configuration and gets a cleared environment from the
//! parent, so no secret is handed to it. It is not a sandbox: it runs as the hub's user.

use std::io::{BufRead as _, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use hub_plugin_sdk::abi::{CallError, PluginSession, PluginTable};

use super::wire::{Hello, Request, tag, write_frame};

/// Runs the child until the parent closes its stdin. Exit status 0 after a normal end, 3
/// when the library was refused, 4 when the pipe broke.
pub fn main(library: &Path) -> ExitCode {
    if !die_with_parent() {
        return ExitCode::from(4);
    }
    let (input, mut output) = match take_stdio() {
        Ok(stdio) => stdio,
        Err(e) => {
            eprintln!("hub plugin-host: cannot set up the pipes: {e}");
            return ExitCode::from(4);
        }
    };
    let table = match super::load::load(library) {
        Ok(table) => table,
        Err(refusal) => {
            let json = serde_json::to_vec(&refusal).unwrap_or_default();
            let _ = write_frame(&mut output, tag::REFUSED, &json);
            return ExitCode::from(3);
        }
    };
    let hello = Hello {
        abi_version: table.header.abi_version,
        struct_size: table.header.struct_size,
    };
    if write_frame(
        &mut output,
        tag::HELLO,
        &serde_json::to_vec(&hello).unwrap_or_default(),
    )
    .is_err()
    {
        return ExitCode::from(4);
    }
    match serve(&table, input, &mut output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(4),
    }
}

/// Asks the kernel to kill this process when its parent dies (the hub killed with
/// `kill -9` while a plugin hangs must not leave the child running under PID 1). `false`
/// when the parent is already gone. The signal is tied to the thread that started the
/// child, which in the hub is the thread that talks to it until the child ends.
#[cfg(target_os = "linux")]
fn die_with_parent() -> bool {
    let parent = rustix::process::getppid();
    if rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .is_err()
    {
        return true;
    }
    // The parent may have died between our start and the request: then we were adopted.
    parent.is_some() && rustix::process::getppid() == parent
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent() -> bool {
    true
}

/// The requests' reader and the frames' writer, with fds 0 and 1 moved out of a plugin's
/// reach.
#[cfg(unix)]
fn take_stdio() -> std::io::Result<(Box<dyn std::io::BufRead>, std::fs::File)> {
    use std::os::fd::AsFd as _;
    let frames = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let requests = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    rustix::stdio::dup2_stdout(std::io::stderr())?;
    rustix::stdio::dup2_stdin(std::fs::File::open("/dev/null")?)?;
    Ok((Box::new(BufReader::new(requests)), frames))
}

#[cfg(not(unix))]
fn take_stdio() -> std::io::Result<(Box<dyn std::io::BufRead>, std::fs::File)> {
    Err(std::io::Error::other(
        "process isolation of plugins needs a Unix system; use plugins.isolation = \"in-process\"",
    ))
}

fn serve(
    table: &PluginTable,
    input: Box<dyn std::io::BufRead>,
    output: &mut impl Write,
) -> std::io::Result<()> {
    let mut session: Option<PluginSession> = None;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = match serde_json::from_str(&line) {
            Ok(request) => request,
            Err(e) => {
                let message = format!("unreadable request: {e}");
                write_frame(output, tag::PROTOCOL, message.as_bytes())?;
                continue;
            }
        };
        match request {
            Request::Describe => match table.manifest_json() {
                Ok(json) => write_frame(output, tag::MANIFEST, &json)?,
                Err(e) => write_error(output, &e)?,
            },
            Request::Sniff { head, file_name } => {
                match table.sniff(&Request::head(&head), &file_name) {
                    Ok(confidence) => write_frame(output, tag::SNIFF, &[confidence.percent()])?,
                    Err(e) => write_error(output, &e)?,
                }
            }
            Request::Open {
                path,
                file_name,
                options,
            } => {
                session = None;
                match table.open(&Request::head(&path), &file_name, options.as_bytes()) {
                    Ok(opened) => {
                        session = Some(opened);
                        write_frame(output, tag::OPENED, b"")?;
                    }
                    Err(e) => write_error(output, &e)?,
                }
            }
            Request::Next { max } => match session.as_mut() {
                None => write_frame(output, tag::PROTOCOL, b"next before open")?,
                // The parent checks each frame's size before reading it.
                Some(open) => match open.next_batch(max, u64::MAX) {
                    Ok(Some(batch)) => write_frame(output, tag::BATCH, &batch)?,
                    Ok(None) => {
                        session = None;
                        write_frame(output, tag::END, b"")?;
                    }
                    Err(e) => write_error(output, &e)?,
                },
            },
        }
    }
    Ok(())
}

fn write_error(output: &mut impl Write, error: &CallError) -> std::io::Result<()> {
    match error {
        CallError::Failed(e) => write_frame(
            output,
            tag::FAILED,
            &serde_json::to_vec(e).unwrap_or_default(),
        ),
        CallError::Panicked(message) => write_frame(output, tag::PANICKED, message.as_bytes()),
        CallError::Protocol(message) => write_frame(output, tag::PROTOCOL, message.as_bytes()),
        CallError::TooLarge(_) => write_frame(output, tag::PROTOCOL, error.to_string().as_bytes()),
    }
}
