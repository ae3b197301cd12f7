// Real spans of OpenInference JS instrumentations not captured elsewhere, against the fake OpenAI / Anthropic server
// on 127.0.0.1 (../vercel_ai/fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: openinference-js-mcp (@arizeai/openinference-instrumentation-mcp over the MCP TypeScript SDK's
// Streamable HTTP client and server in this process, an agent loop whose model calls go through
// @arizeai/openinference-instrumentation-openai over openai), openinference-langchain-js-anthropic
// (@arizeai/openinference-instrumentation-langchain over @langchain/anthropic ChatAnthropic). Every span below
// `workflow` is a library's, but for the MCP server's tool handler span (`tool.get_order_status`, scope
// fixgen.mcp-server): the MCP instrumentation makes no spans, it carries the caller's context to the server.
import { trace, context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { planner, workflowOf, record, guardLoopback } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

// every connection this process opens must go to 127.0.0.1 (the fake, the MCP server here)
const refused = guardLoopback();

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
// the W3C propagator an OTel Node SDK sets up by default (NodeSDK / NodeTracerProvider.register): the MCP
// instrumentation injects and extracts through the global propagator (dist/src/mcp.js propagation.inject / extract)
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
    'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state, { giveUpReason: true });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const lookup = (orderId) => JSON.stringify({ order_id: orderId, status: orderId === 'A-1001' ? 'in transit' : 'delivered' });
const TOOL_CALL = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } } };

let scenarios;
let teardown = async () => {};
if (source === 'openinference-js-mcp') {
  const { OpenAIInstrumentation } = await import('@arizeai/openinference-instrumentation-openai');
  new OpenAIInstrumentation({ tracerProvider: provider, instrumentationConfig: { enabled: false } })
    .manuallyInstrument(await import('openai'));
  // the MCP SDK's transports are ESM-imported: manuallyInstrument (README); the instrumentation 0.2.33 wraps the
  // SSE, stdio and Streamable HTTP transport classes' send / start (dist/src/mcp.js _patchTransport), not
  // InMemoryTransport, and a stdio client spawns its server as a subprocess (the server's spans in another
  // process): so client and server here speak Streamable HTTP over 127.0.0.1, both ends in this process
  const { MCPInstrumentation } = await import('@arizeai/openinference-instrumentation-mcp');
  const clientHttp = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const serverHttp = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  new MCPInstrumentation({ instrumentationConfig: { enabled: false } })
    .manuallyInstrument({ clientStreamableHTTPModule: clientHttp, serverStreamableHTTPModule: serverHttp });
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { z } = await import('zod');
  const { default: OpenAI } = await import('openai');

  // --- the MCP server (acme-orders): one tool; its handler traces itself (scope fixgen.mcp-server) ---------------
  const serverTracer = trace.getTracer('fixgen.mcp-server');
  const orderServer = () => {
    const s = new McpServer({ name: 'acme-orders', version: '1.0.0' });
    s.registerTool('get_order_status', { description: 'Look up the shipping status of an ACME order',
      inputSchema: { order_id: z.string() } }, async ({ order_id }) => serverTracer.startActiveSpan('tool.get_order_status',
      { attributes: { 'app.tool.name': 'get_order_status', 'app.mcp.server': 'acme-orders' } }, async (span) => {
        try { return { content: [{ type: 'text', text: lookup(order_id) }] }; } finally { span.end(); }
      }));
    return s;
  };
  const sessions = new Map();
  const httpServer = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    let transport = sessions.get(req.headers['mcp-session-id']);
    if (!transport) {
      transport = new serverHttp.StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport) });
      await orderServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const mcpUrl = new URL(`http://127.0.0.1:${httpServer.address().port}/mcp`);
  teardown = async () => { for (const t of sessions.values()) await t.close(); httpServer.close(); };

  // --- the app: an agent loop over Chat Completions, its tools the MCP server's ---------------------------------
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', maxRetries: 0 });
  async function session(fn) {
    const mcp = new Client({ name: 'support-bot', version: '1.0.0' });
    await mcp.connect(new clientHttp.StreamableHTTPClientTransport(mcpUrl));
    try {
      const { tools } = await mcp.listTools();
      const oaTools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description,
        parameters: t.inputSchema } }));
      await fn(mcp, oaTools);
    } finally { await mcp.close(); }
  }
  // one user turn: ask the model, run every tool call it makes over MCP, ask again, until it answers
  async function turn(mcp, oaTools, messages, model, options, extra = {}) {
    for (;;) {
      const res = await openai.chat.completions.create({ model, messages, tools: oaTools, ...extra }, options);
      const msg = res.choices[0].message;
      messages.push(msg);
      if (!msg.tool_calls?.length) return msg;
      for (const call of msg.tool_calls) {
        const out = await mcp.callTool({ name: call.function.name, arguments: JSON.parse(call.function.arguments) });
        messages.push({ role: 'tool', tool_call_id: call.id, content: out.content.map((c) => c.text).join('') });
      }
    }
  }
  async function drain(stream) { for await (const _ of stream) { /* the app reads every chunk */ } }
  const ask = (user) => [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }];
  scenarios = {
    async healthy() {
      await workflow('order-agent', () => session(async (mcp, tools) => {
        const messages = ask(Q1);
        await turn(mcp, tools, messages, 'gpt-4o-mini', await plan({ ...TOOL_CALL, input: 480, output: 19 },
          { input: 530, output: 15, text: 'Order A-1001 is in transit.' }), { max_tokens: 200 });
        messages.push({ role: 'user', content: 'Thanks! Anything else I should know?' });
        await turn(mcp, tools, messages, 'gpt-4o-mini', await plan({ input: 560, output: 12, text: 'No, that is all.' }),
          { max_tokens: 200 });
      }));
    },
    async cached() {
      await workflow('cached-support', () => session(async (mcp, tools) => {
        await turn(mcp, tools, ask(Q1), 'gpt-4o', await plan({ input: 1300, cache_read: 0, output: 30, text: 'In transit.' }));
        await turn(mcp, tools, ask(Q2), 'gpt-4o', await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }));
        await turn(mcp, tools, ask(Q3), 'o4-mini',
          await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' }));
      }));
    },
    async streaming() {
      await workflow('streamed-replies', () => session(async (mcp, tools) => {
        const stream = (user, options, extra = {}) => openai.chat.completions.create({ model: 'gpt-4o-mini',
          messages: ask(user), tools, stream: true, stream_options: { include_usage: true }, ...extra }, options);
        await drain(await stream(Q1, await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' })));
        await drain(await stream(Q2, await plan({ input: 425, output: 16, finish: 'length',
          text: 'Order A-1002 left our warehouse on Monday and' }), { max_tokens: 16 }));
      }));
    },
    async tool_use() {
      await workflow('order-agent', () => session(async (mcp, tools) => {
        await turn(mcp, tools, ask(Q1), 'o4-mini', await plan({ ...TOOL_CALL, input: 480, output: 83, reasoning: 64 },
          { input: 540, output: 15, text: 'Order A-1001 is in transit.' }));
      }));
    },
    async errors() {
      await workflow('flaky-upstream', () => session(async (mcp, tools) => {
        try {
          await turn(mcp, tools, ask(Q1), 'gpt-4o-mini', await plan({ status: 429, retry_after: '1' }));
        } catch (e) { /* the app tries once more, later */ }
        await turn(mcp, tools, ask(Q1), 'gpt-4o-mini', await plan({ status: 500 }));
      }));
    },
    async duplicate() {
      await workflow('dup', () => session(async (mcp, tools) => {
        for (let k = 0; k < 2; k++) {
          await turn(mcp, tools, ask(Q1), 'gpt-4o-mini', await plan({ input: 420, output: 12, text: 'In transit.' }),
            { temperature: 0, max_tokens: 100 });
        }
      }));
    },
  };
} else if (source === 'openinference-langchain-js-anthropic') {
  const { LangChainInstrumentation } = await import('@arizeai/openinference-instrumentation-langchain');
  new LangChainInstrumentation({ tracerProvider: provider, instrumentationConfig: { enabled: false } })
    .manuallyInstrument(await import('@langchain/core/callbacks/manager'));
  const { ChatAnthropic } = await import('@langchain/anthropic');
  const { SystemMessage, HumanMessage } = await import('@langchain/core/messages');
  const { tool } = await import('@langchain/core/tools');
  // LangChain sends no per-call headers: the plan's headers go on every request through the client's fetch
  const claude = (model, extra = {}) => new ChatAnthropic({ model, apiKey: 'sk-ant-fake', maxRetries: 0, maxTokens: 256,
    clientOptions: { baseURL: base, fetch: withPlan }, ...extra });
  const getOrderStatus = tool(async ({ order_id }) => lookup(order_id), { name: 'get_order_status',
    description: 'Look up an order', schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } });
  const ask = (user, system = SYSTEM) => [new SystemMessage(system), new HumanMessage(user)];
  const cachedSys = new SystemMessage({ content: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }] });
  async function drain(stream) { for await (const _ of await stream) { /* the app reads every chunk */ } }
  // one user turn of a tool-calling loop: the tool runs as a LangChain tool (its own TOOL span)
  async function turn(model, messages) {
    for (;;) {
      const ai = await model.invoke(messages);
      messages.push(ai);
      if (!ai.tool_calls?.length) return ai;
      for (const call of ai.tool_calls) messages.push(await getOrderStatus.invoke(call));
    }
  }
  scenarios = {
    async healthy() {
      await workflow('order-agent', async () => {
        const messages = ask(Q1);
        await plan({ ...TOOL_CALL, input: 480, output: 40 }, { input: 560, output: 15, text: 'Order A-1001 is in transit.' });
        await turn(claude('claude-haiku-4-5').bindTools([getOrderStatus]), messages);
        messages.push(new HumanMessage(Q2));
        await plan({ input: 600, output: 22, text: 'Order A-1002 was delivered.' });
        await turn(claude('claude-haiku-4-5'), messages);
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan({ input: 1300, cache_read: 0, cache_write: 1200, output: 30, text: 'In transit.' });
        await claude('claude-sonnet-4-5').invoke([cachedSys, new HumanMessage(Q1)]);
        await plan({ input: 1310, cache_read: 1200, cache_write: 0, output: 28, text: 'Delivered.' });
        await claude('claude-sonnet-4-5').invoke([cachedSys, new HumanMessage(Q2)]);
        // more new input than cached: Anthropic's input_tokens (cache excluded) is then above the cache read
        await plan({ input: 3100, cache_read: 1200, cache_write: 0, output: 26, text: 'Awaiting pickup.' });
        await claude('claude-sonnet-4-5').invoke([cachedSys, new HumanMessage(`${Q3} ${'My earlier messages follow. '.repeat(200)}`)]);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        await drain(claude('claude-haiku-4-5').stream(ask(Q1)));
        // the second model made to stream (``streaming: true``), read by .stream() as well, cut at 16 tokens
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        await drain(claude('claude-haiku-4-5', { maxTokens: 16, streaming: true }).stream(ask(Q2)));
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        await plan({ ...TOOL_CALL, input: 480, output: 40 }, { input: 560, output: 15, text: 'Order A-1001 is in transit.' });
        await turn(claude('claude-sonnet-4-5').bindTools([getOrderStatus]), ask(Q1));
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' });
          await claude('claude-haiku-4-5').invoke(ask(Q1));
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 });
        await claude('claude-haiku-4-5').invoke(ask(Q1));
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan({ input: 420, output: 12, text: 'In transit.' });
          await claude('claude-haiku-4-5', { temperature: 0, maxTokens: 100 }).invoke(ask(Q1));
        }
      });
    },
  };
} else {
  throw new Error(`unknown source ${source}`);
}

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath, settle: 50 });
await teardown();
if (refused.length) {
  console.error(`loopback guard refused: ${refused.join(', ')}`);
  process.exitCode = 1;
}
