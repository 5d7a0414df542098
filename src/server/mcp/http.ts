import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../api/context.js';
import type { McpDeps } from './tools.js';

/**
 * Mounts the MCP server at `/api/mcp` (streamable HTTP, stateless: one server per request, JSON answers) behind the
 * API's guards: the caller's session or bearer token is checked by the API's hooks before this handler, and its
 * role decides which tools it sees. GET and DELETE (server-initiated streams, sessions) answer 405. The MCP SDK and
 * the tools load on the first request, so a runtime that never serves MCP does not pay for them at start.
 */
export function mountMcp(api: FastifyInstance, deps: McpDeps): void {
  api.post('/api/mcp', { schema: { hide: true } }, async (req, reply) => {
    const principal = req.principal;
    if (!principal) return reply.code(401).send({ error: 'unauthenticated', message: 'log in first' });
    const [{ StreamableHTTPServerTransport }, { buildMcpServer }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
      import('./tools.js'),
    ]);
    const server = buildMcpServer(deps, { role: principal.role, actor: actorOf(principal) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });
  const refuse = async (_req: unknown, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ error: 'method_not_allowed', message: 'the MCP endpoint is stateless: POST only' });
  api.get('/api/mcp', { schema: { hide: true } }, refuse);
  api.delete('/api/mcp', { schema: { hide: true } }, refuse);
}
