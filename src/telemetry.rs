//! Logs (text or JSON lines on stderr) and, built with the `otel` feature,
//! traces exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::LogFormat;

/// Keeps the trace exporter alive; dropping it sends the spans still queued.
pub struct Telemetry {
    #[cfg(feature = "otel")]
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.traces.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("traces: {error}");
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = match format {
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(logs);
    #[cfg(feature = "otel")]
    {
        let traces = otlp::provider();
        let layer = traces.as_ref().map(|provider| {
            use opentelemetry::trace::TracerProvider as _;
            tracing_opentelemetry::layer().with_tracer(provider.tracer("catalogue-gateway"))
        });
        registry.with(layer).init();
        Telemetry { traces }
    }
    #[cfg(not(feature = "otel"))]
    {
        registry.init();
        Telemetry {}
    }
}

#[cfg(feature = "otel")]
mod otlp {
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    /// The OTLP/HTTP exporter the standard `OTEL_*` variables describe; none
    /// when no endpoint is set.
    pub fn provider() -> Option<SdkTracerProvider> {
        std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
        let exporter = match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => exporter,
            Err(error) => {
                eprintln!("traces: cannot export to OTEL_EXPORTER_OTLP_ENDPOINT: {error}");
                return None;
            }
        };
        let service =
            std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "catalogue-gateway".to_owned());
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(service).build())
                .build(),
        )
    }
}
