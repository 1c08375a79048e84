//! The `hub` binary: command-line definition and glue live in `hub::cli`.

/// mimalloc instead of the system allocator: measured with `tools/bench-graphql`, a GraphQL
/// request spent about 15% of its CPU in glibc's malloc and free (consolidating the arenas
/// of the HTTP, runtime and SQLite worker threads), and the server held more memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(unsafe_code)]
fn main() -> std::process::ExitCode {
    // SAFETY: the first thing the process does: no other thread exists yet.
    unsafe { hub::cli::grow_thread_stacks() };
    hub::cli::main()
}
