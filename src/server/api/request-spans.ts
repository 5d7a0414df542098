/**
 * One span per API request (docs/operations.md "Traces"): its handler runs in the span's context, so an order placed
 * by `POST /api/orders` is the same trace down to its fill; the response carries `traceparent` and `x-trace-id`.
 * While tracing is off the wrapped handler is called as it is.
 */
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { contextWith, runIn, startSpan, traceparentOf, tracingEnabled } from '../../core/tracing.js';

/** Wraps every route registered on `api` from now on (call before the routes). */
export function traceRequests(api: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  api.addHook('onRoute', (route) => {
    if ((route as { websocket?: boolean }).websocket) return;
    const handler = route.handler as RouteHandlerMethod;
    const name = `HTTP ${String(route.method)} ${route.url}`;
    route.handler = function traced(this: FastifyInstance, req, reply) {
      if (!tracingEnabled()) return handler.call(this, req, reply);
      const span = startSpan(name, { attributes: { 'http.method': req.method, 'http.route': route.url } });
      if (span === undefined) return handler.call(this, req, reply);
      spans.set(req, span);
      reply.header('traceparent', traceparentOf(span));
      reply.header('x-trace-id', span.spanContext().traceId);
      return runIn(contextWith(span), () => handler.call(this, req, reply));
    } as RouteHandlerMethod;
  });
  api.addHook('onResponse', async (req, reply) => {
    const span = spans.get(req);
    if (span === undefined) return;
    span.setAttribute('http.status_code', reply.statusCode);
    span.end();
  });
}
