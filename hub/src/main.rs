//! The `hub` binary: command-line definition and glue live in `hub::cli`.

/// mimalloc instead of the system allocator: measured with `tools/bench-graphql`, a GraphQL
/// request spent about 15% of its CPU in glibc's malloc and free (consolidating the arenas
/// of the HTTP, runtime and SQLite worker threads), and the server held more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hub::cli::main()
}
