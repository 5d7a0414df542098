/**
 * The OpenTelemetry SDK (config `telemetry.otlpUrl`, docs/operations.md "Traces"): a tracer provider with an OTLP
 * HTTP exporter, or any exporter given (tests: the in-memory one), and async-hooks context propagation. Only the
 * app imports the SDK; the rest of the code uses `ops/tracing.ts` over `@opentelemetry/api`.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { setTracingEnabled } from '../core/tracing.js';

/** Options of {@link startTelemetry}: an OTLP URL, or an exporter (spans exported one by one). */
export type TelemetryOptions = { otlpUrl: string } | { exporter: SpanExporter };

/** The running SDK. */
export interface Telemetry {
  /** Exports what is pending. */
  flush(): Promise<void>;
  /** Stops tracing, exports what is pending and unregisters the provider. */
  shutdown(): Promise<void>;
}

/** Registers the tracer provider and turns tracing on. */
export function startTelemetry(opts: TelemetryOptions): Telemetry {
  const processor =
    'exporter' in opts
      ? new SimpleSpanProcessor(opts.exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpUrl }));
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true);
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      setTracingEnabled(false);
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
