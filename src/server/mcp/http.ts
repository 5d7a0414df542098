import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../api/context.js';
import { buildMcpServer, type McpDeps } from './tools.js';

/**
 * Mounts the MCP server at `/api/mcp` (streamable HTTP, stateless: one server per request, JSON answers) behind the
 * API's guards: the caller's session or bearer token is checked by the API's hooks before this handler, and its
 * role decides which tools it sees. GET and DELETE (server-initiated streams, sessions) answer 405.
 */
export function mountMcp(api: FastifyInstance, deps: McpDeps): void {
  api.post('/api/mcp', { schema: { hide: true } }, async (req, reply) => {
    const principal = req.principal;
    if (!principal) return reply.code(401).send({ error: 'unauthenticated', message: 'log in first' });
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
  const notHere = { schema: { hide: true } };
  const refuse = async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({ error: 'method_not_allowed', message: 'the MCP endpoint is stateless: POST only' });
  api.get('/api/mcp', notHere, refuse);
  api.delete('/api/mcp', notHere, refuse);
}
