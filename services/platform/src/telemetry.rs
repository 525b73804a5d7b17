//! Logs (`tracing`), traces (OpenTelemetry, exported over OTLP when an endpoint is set) and
//! Prometheus metrics. Trace context crosses gRPC in metadata and Kafka in `traceparent`.

use std::collections::HashMap;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{self, ConfigError, ProcessEnv};

/// Keeps the trace pipeline alive; `shutdown` flushes it.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("telemetry shutdown: {e}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("otlp exporter: {0}")]
    Exporter(String),
    #[error("logging already initialised: {0}")]
    Init(String),
}

/// Installs logging, tracing and the metrics recorder for `service`, from RENDA_LOG,
/// RENDA_LOG_FORMAT (`text` or `json`) and RENDA_OTLP_ENDPOINT.
pub fn init(service: &'static str) -> Result<Telemetry, TelemetryError> {
    let filter = config::var(&ProcessEnv, "RENDA_LOG", "info,sqlx::postgres::notice=warn".to_owned())?;
    let filter = EnvFilter::try_new(&filter).map_err(|e| ConfigError::new("RENDA_LOG", e.to_string()))?;
    let format = config::var(&ProcessEnv, "RENDA_LOG_FORMAT", "text".to_owned())?;
    let endpoint: Option<String> = config::optional(&ProcessEnv, "RENDA_OTLP_ENDPOINT")?;

    let mut builder = SdkTracerProvider::builder()
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(format!("renda-{service}")).build());
    if let Some(endpoint) = &endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);

    let fmt = match format.as_str() {
        "json" => tracing_subscriber::fmt::layer().json().with_filter(filter).boxed(),
        "text" => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_filter(filter)
            .boxed(),
        other => return Err(ConfigError::new("RENDA_LOG_FORMAT", format!("{other:?}: use text or json")).into()),
    };
    tracing_subscriber::registry().with(fmt).with(otel).try_init().map_err(|e| TelemetryError::Init(e.to_string()))?;
    metrics_handle();
    tracing::info!(service, otlp = endpoint.as_deref().unwrap_or("off"), "telemetry ready");
    Ok(Telemetry { provider })
}

/// Logs for tests: only when TEST_LOG is set, and only once per process.
pub fn init_for_tests() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
                .with_test_writer()
                .try_init();
        }
    });
}

/// The process's Prometheus registry (installed on first use).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests with several services in one process).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The W3C `traceparent` of the current span; a fresh trace when there is none, so every
/// event can be followed from its publication on.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
    }
    carrier
        .remove("traceparent")
        .or_else(|| Some(format!("00-{:032x}-{:016x}-01", rand::random::<u128>() | 1, rand::random::<u64>() | 1)))
}

/// Makes `span` a child of the remote span in `traceparent`, when it is well-formed.
pub fn set_parent_from_traceparent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else { return };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_always_well_formed() {
        let tp = current_traceparent().expect("some");
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
    }
}
