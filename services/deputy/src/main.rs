fn main() -> std::process::ExitCode {
    renda_platform::host::run_main::<renda_deputy::App>()
}
