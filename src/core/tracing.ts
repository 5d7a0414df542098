/**
 * Traces (OPS-1, docs/operations.md "Traces") over `@opentelemetry/api` only, never the SDK (the core does no I/O):
 * `app/telemetry.ts` wires the SDK and its exporter. Off by default; while off every helper here returns at its
 * first branch, so the order path pays one boolean test per call and allocates nothing.
 */
import { type Context, context, type Span, type SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';

/** Instrumentation scope of every tradeforge span. */
export const TRACER_NAME = 'tradeforge';

let enabled = false;

/** Turns span creation on or off (the app turns it on once a tracer provider is registered). */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

/** Whether spans are being made. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** The trace id of the active span, or undefined (tracing off, or no span active). */
export function activeTraceId(): string | undefined {
  if (!enabled) return undefined;
  const s = trace.getActiveSpan()?.spanContext();
  return s !== undefined && trace.isSpanContextValid(s) ? s.traceId : undefined;
}

/** Starts a span (child of `parent`, default the active context); undefined while tracing is off. */
export function startSpan(name: string, options?: SpanOptions, parent?: Context): Span | undefined {
  if (!enabled) return undefined;
  return trace.getTracer(TRACER_NAME).startSpan(name, options, parent ?? context.active());
}

/** The context with `span` active (the parent when no span). */
export function contextWith(span: Span | undefined, parent: Context = context.active()): Context {
  return span === undefined ? parent : trace.setSpan(parent, span);
}

/** Runs `fn` with `ctx` active (as is while tracing is off or without a context). */
export function runIn<T>(ctx: Context | undefined, fn: () => T): T {
  if (!enabled || ctx === undefined) return fn();
  return context.with(ctx, fn);
}

/**
 * Runs `fn` inside a new active span that ends when `fn` returns or its promise settles; an error marks the span.
 * While tracing is off it is `fn()`.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: () => T): T {
  if (!enabled) return fn();
  const span = trace.getTracer(TRACER_NAME).startSpan(name, options, context.active());
  const ctx = trace.setSpan(context.active(), span);
  try {
    const out = context.with(ctx, fn);
    if (out instanceof Promise) {
      return out.then(
        (v) => {
          span.end();
          return v;
        },
        (err: unknown) => {
          failSpan(span, err);
          span.end();
          throw err;
        },
      ) as T;
    }
    span.end();
    return out;
  } catch (err) {
    failSpan(span, err);
    span.end();
    throw err;
  }
}

/** Marks a span failed with an error's message. */
export function failSpan(span: Span | undefined, err: unknown): void {
  if (span === undefined) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The W3C `traceparent` header value of a span. */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-0${(c.traceFlags & 1).toString(16)}`;
}
