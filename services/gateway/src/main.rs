use renda_gateway::App;
use renda_gateway::config::GatewayConfig;
use renda_platform::host::{run_process, shutdown_signal};

fn main() -> std::process::ExitCode {
    run_process("gateway", GatewayConfig::from_env, |config| async move {
        App::build(config).await?.run(shutdown_signal()).await
    })
}
