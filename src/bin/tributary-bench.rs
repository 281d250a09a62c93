//! The `tributary-bench` command (cargo feature `bench`): the ingest
//! pipeline against a synthetic corpus on a loopback server; see
//! `tributary::bench`.

fn main() -> std::process::ExitCode {
    tributary::bench::main()
}
