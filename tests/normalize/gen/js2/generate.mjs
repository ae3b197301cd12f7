// Real Mastra / Langfuse JS / OpenLLMetry (node-server-sdk + LangChain.js) spans against the fake OpenAI server
// on 127.0.0.1 (../vercel_ai/fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: mastra-otel (@mastra/core Agent, AI tracing through @mastra/observability + @mastra/otel-exporter
// into an in-memory exporter, model @ai-sdk/openai), langfuse-js-openai (@langfuse/otel LangfuseSpanProcessor
// beside an in-memory exporter, @langfuse/openai observeOpenAI over openai; langfuse-js-openai-5: the same app over
// Langfuse JS v5, run by ../js2v5/generate.py with its packages), traceloop-langchain-js
// (@traceloop/node-server-sdk with its LangChain instrumentation over @langchain/openai). Run from a directory
// whose node_modules holds this folder's package-lock.json (generate.py does this). Every span below `workflow`
// is made by the library; the generator only makes the root `workflow` span (scope fixgen.app), as the shared
// fixtures do.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { planner, workflowOf, record, guardLoopback } from './capture.mjs';

const refused = guardLoopback();  // every call the libraries make goes to the fake server, or fails here
const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

const exporter = new InMemorySpanExporter();
const resource = resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
  'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' });
let provider;
if (source !== 'traceloop-langchain-js') context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
if (source === 'mastra-otel') {
  provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
}

// the fake server's scripted answers (fake_server.py docstring): registered by POST /_plan, named by headers;
// the libraries send no per-call headers, so the current plan's go on every request through the client's fetch
const { state, plan, withPlan } = planner(base, source);
let workflow;  // the root span's tracer is made once the source's provider is
const appTracer = () => { workflow = workflowOf(trace.getTracer('fixgen.app'), state, { giveUpReason: true }); };

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const lookup = (orderId) => JSON.stringify({ order_id: orderId, status: 'in transit' });
const TOOL_CALL = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } } };
const A1 = { input: 420, output: 24, text: 'Order A-1001 is in transit.' };
const A2 = { input: 430, output: 22, text: 'Order A-1002 was delivered.' };
const S1 = { input: 420, output: 18, text: 'Order A-1001 is in transit.' };
const S2 = { input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' };
const C1 = { input: 1300, cache_read: 0, output: 30, text: 'In transit.' };
const C2 = { input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' };
const C3 = { input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' };
const D = { input: 420, output: 12, text: 'In transit.' };
const T2 = { input: 530, output: 15, text: 'Order A-1001 is in transit.' };
async function drain(stream) { for await (const _ of stream) { /* the app reads every chunk */ } }

// --- Mastra ------------------------------------------------------------------------------------------------
async function mastraScenarios() {
  appTracer();
  const { Mastra } = await import('@mastra/core/mastra');
  const { Agent } = await import('@mastra/core/agent');
  const { createTool } = await import('@mastra/core/tools');
  const { Observability } = await import('@mastra/observability');
  const { OtelExporter } = await import('@mastra/otel-exporter');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const { z } = await import('zod');
  const oa = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', fetch: withPlan });
  // OtelExporter accepts any SpanExporter (types.d.ts ``exporter``); the provider entry is still required
  const otel = new OtelExporter({ provider: { custom: { endpoint: 'http://127.0.0.1:9/unused', protocol: 'http/json' } },
    exporter, resourceAttributes: resource.attributes, signals: { logs: false } });
  const getOrderStatus = createTool({ id: 'get_order_status', description: 'Look up an order',
    inputSchema: z.object({ order_id: z.string() }), execute: async ({ order_id }) => lookup(order_id) });
  const agent = (id, model, extra = {}) => new Agent({ id, name: id, instructions: SYSTEM, model, maxRetries: 0, ...extra });
  const agents = {
    support: agent('support', oa.chat('gpt-4o-mini')),
    responses: agent('support-responses', oa.responses('gpt-4o-mini')),
    cached: agent('cached-support', oa.chat('gpt-4o')),
    reasoning: agent('reasoning-support', oa.chat('o4-mini')),
    tools: agent('order-agent', oa.chat('gpt-4o-mini'), { tools: { getOrderStatus } }),
  };
  const mastra = new Mastra({ agents, logger: false,
    observability: new Observability({ configs: { otel: { serviceName: 'support-bot', exporters: [otel] } } }) });
  const a = (k) => mastra.getAgent(k);
  // join the app's trace: tracingOptions traceId / parentSpanId (core observability types: "for correlating
  // with an external tracing system (e.g. an OpenTelemetry span in the calling service)")
  const opts = (extra = {}) => {
    const sc = trace.getActiveSpan().spanContext();
    return { tracingOptions: { traceId: sc.traceId, parentSpanId: sc.spanId }, ...extra };
  };
  const flush = async () => { await new Promise((r) => setTimeout(r, 200)); await otel.flush?.(); await otel.processor?.forceFlush(); };
  return { flush, scenarios: {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan(A1); await a('support').generate(Q1, opts({ modelSettings: { maxOutputTokens: 200 } }));
        await plan(A2); await a('responses').generate(Q2, opts({ modelSettings: { maxOutputTokens: 200 } }));
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan(C1); await a('cached').generate(Q1, opts());
        await plan(C2); await a('cached').generate(Q2, opts());
        await plan(C3); await a('reasoning').generate(Q3, opts());
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan(S1); let s = await a('support').stream(Q1, opts()); await drain(s.textStream); await s.text;
        await plan(S2); s = await a('support').stream(Q2, opts({ modelSettings: { maxOutputTokens: 16 } }));
        await drain(s.textStream); await s.text;
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        await plan({ ...TOOL_CALL, input: 480, output: 19 }, T2);
        await a('tools').generate(Q1, opts({ maxSteps: 3 }));
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await a('support').generate(Q1, opts());
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await a('support').generate(Q1, opts());
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan(D); await a('support').generate(Q1, opts({ modelSettings: { temperature: 0, maxOutputTokens: 100 } }));
        }
      });
    },
  } };
}

// --- Langfuse JS v4 and v5: @langfuse/openai observeOpenAI over openai, exported by @langfuse/otel ---------
async function langfuseScenarios() {
  const { LangfuseSpanProcessor } = await import('@langfuse/otel');
  const { observeOpenAI } = await import('@langfuse/openai');
  const { default: OpenAI } = await import('openai');
  // the processor exports what Langfuse would receive (after its masking and media handling) to the in-memory
  // exporter (LangfuseSpanProcessorParams.exporter) instead of https://cloud.langfuse.com. v4 (4.6.1) exports
  // every span, the app's too (no shouldExportSpan filter); v5 (5.11.1) applies its default filter
  // (isDefaultExportSpan: Langfuse, gen_ai.* or known LLM scopes), as an app that passes none gets it: the app's
  // `workflow` root is dropped and each generation is marked langfuse.internal.is_app_root
  const lf = new LangfuseSpanProcessor({ exporter, exportMode: 'immediate', environment: 'fixture' });
  provider = new BasicTracerProvider({ resource, spanProcessors: [lf] });
  trace.setGlobalTracerProvider(provider);
  appTracer();
  const openai = observeOpenAI(new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', maxRetries: 0, fetch: withPlan }));
  const chat = (model, user, extra = {}) => ({ model, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }], ...extra });
  const tools = [{ type: 'function', function: { name: 'get_order_status', description: 'Look up an order',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }];
  return { flush: () => lf.forceFlush(), scenarios: {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan(A1); await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { max_tokens: 200 }));
        await plan(A2); await openai.responses.create({ model: 'gpt-4o-mini', instructions: SYSTEM, input: Q2, max_output_tokens: 200 });
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan(C1); await openai.chat.completions.create(chat('gpt-4o', Q1));
        await plan(C2); await openai.chat.completions.create(chat('gpt-4o', Q2));
        await plan(C3); await openai.chat.completions.create(chat('o4-mini', Q3));
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan(S1);
        await drain(await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { stream: true, stream_options: { include_usage: true } })));
        await plan(S2);
        await drain(await openai.chat.completions.create(chat('gpt-4o-mini', Q2, { stream: true, stream_options: { include_usage: true }, max_tokens: 16 })));
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const messages = [{ role: 'system', content: SYSTEM }, { role: 'user', content: Q1 }];
        await plan({ ...TOOL_CALL, input: 480, output: 19 });
        const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
        const call = first.choices[0].message.tool_calls[0];
        messages.push(first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: lookup(JSON.parse(call.function.arguments).order_id) });
        await plan(T2); await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await openai.chat.completions.create(chat('gpt-4o-mini', Q1));
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await openai.chat.completions.create(chat('gpt-4o-mini', Q1));
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan(D); await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { temperature: 0, max_tokens: 100 }));
        }
      });
    },
  } };
}

// --- OpenLLMetry JS all-in-one: @traceloop/node-server-sdk (its LangChain instrumentation) over ChatOpenAI -----
async function traceloopScenarios() {
  const traceloop = await import('@traceloop/node-server-sdk');
  // the SDK's own NodeSDK set-up (tracer provider, context manager, instrumentations); the in-memory exporter
  // instead of api.traceloop.com (InitializeOptions.exporter), spans exported one by one (disableBatch)
  traceloop.initialize({ appName: 'support-bot', exporter, disableBatch: true, traceContent: true,
    silenceInitializationMessage: true, traceloopSyncEnabled: false, apiKey: 'tl-fake', baseUrl: 'http://127.0.0.1:9',
    resourceAttributes: { 'deployment.environment': 'fixture' } });
  appTracer();
  const { ChatOpenAI } = await import('@langchain/openai');
  const { SystemMessage, HumanMessage } = await import('@langchain/core/messages');
  const { tool } = await import('@langchain/core/tools');
  const lc = (model, extra = {}) => new ChatOpenAI({ model, apiKey: 'sk-fake', maxRetries: 0,
    configuration: { baseURL: `${base}/v1`, fetch: withPlan }, ...extra });
  const ask = (user) => [new SystemMessage(SYSTEM), new HumanMessage(user)];
  const lcDrain = async (stream) => { for await (const _ of await stream) { /* the app reads every chunk */ } };
  const flush = async () => { await new Promise((r) => setTimeout(r, 100)); await traceloop.forceFlush(); };
  return { flush, scenarios: {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan(A1); await lc('gpt-4o-mini', { maxTokens: 200 }).invoke(ask(Q1));
        await plan(A2); await lc('gpt-4o-mini', { maxTokens: 200, useResponsesApi: true }).invoke(ask(Q2));
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan(C1); await lc('gpt-4o').invoke(ask(Q1));
        await plan(C2); await lc('gpt-4o').invoke(ask(Q2));
        await plan(C3); await lc('o4-mini').invoke(ask(Q3));
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan(S1); await lcDrain(lc('gpt-4o-mini', { streamUsage: true }).stream(ask(Q1)));
        await plan(S2); await lcDrain(lc('gpt-4o-mini', { streamUsage: true, maxTokens: 16 }).stream(ask(Q2)));
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const getOrderStatus = tool(async ({ order_id }) => lookup(order_id), { name: 'get_order_status',
          description: 'Look up an order', schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } });
        const model = lc('gpt-4o-mini').bindTools([getOrderStatus]);
        const messages = ask(Q1);
        await plan({ ...TOOL_CALL, input: 480, output: 19 });
        const first = await model.invoke(messages);
        messages.push(first);
        for (const call of first.tool_calls) messages.push(await getOrderStatus.invoke(call));
        await plan(T2); await model.invoke(messages);
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await lc('gpt-4o-mini').invoke(ask(Q1));
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await lc('gpt-4o-mini').invoke(ask(Q1));
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan(D); await lc('gpt-4o-mini', { temperature: 0, maxTokens: 100 }).invoke(ask(Q1));
        }
      });
    },
  } };
}

const runners = { 'mastra-otel': mastraScenarios, 'langfuse-js-openai': langfuseScenarios,
  'langfuse-js-openai-5': langfuseScenarios, 'traceloop-langchain-js': traceloopScenarios };
const runner = runners[source] ? await runners[source]() : null;
if (!runner) throw new Error(`unknown source ${source}`);
await record({ scenarios: runner.scenarios, state, exporter, provider, source, base, outPath, truthPath,
  flush: runner.flush, settle: 50 });
if (refused.length) throw new Error(`loopback guard refused ${refused.join(', ')}`);
process.exit(0);
