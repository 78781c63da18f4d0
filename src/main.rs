//! The `debvault` binary: parses the command line and hands over to [`debvault::cli`].

fn main() -> std::process::ExitCode {
    debvault::cli::main()
}
