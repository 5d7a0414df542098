import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildMcpServer, type McpCaller, type McpDeps } from './tools.js';

/** Serves MCP over stdin/stdout until stdin closes (`tradeforge mcp`). Nothing else may write to stdout. */
export async function serveMcpStdio(deps: McpDeps, caller: McpCaller): Promise<void> {
  const server = buildMcpServer(deps, caller);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
