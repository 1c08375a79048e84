//! The `hub` binary: command-line definition and glue live in `hub::cli`.

fn main() -> std::process::ExitCode {
    hub::cli::main()
}
