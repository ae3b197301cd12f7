// Real OpenInference-Vercel / OpenLIT JS / LangGraph.js (OpenInference LangChain) spans against the fake OpenAI
// server on 127.0.0.1 (../vercel_ai/fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: openinference-vercel-ai (AI SDK v7 telemetry through @ai-sdk/otel, rewritten by
// @arizeai/openinference-vercel's OpenInferenceSimpleSpanProcessor, isOpenInferenceSpan filter), openlit-js-openai
// (openlit's Openlit.init over the openai package), openinference-langgraph-js (@langchain/langgraph
// createReactAgent over @langchain/openai ChatOpenAI, @arizeai/openinference-instrumentation-langchain). Run from a
// directory whose node_modules holds this folder's package-lock.json (generate.py does this). Every span below
// `workflow` is made by the library; the generator only makes the root `workflow` span (scope fixgen.app), as the
// shared fixtures do.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import fs from 'node:fs';
import { planner, workflowOf, record } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

const exporter = new InMemorySpanExporter();
const resource = resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
  'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
let provider;

// the fake server's scripted answers (fake_server.py docstring): registered by POST /_plan, named by headers;
// the current plan's go on every request through the client's fetch
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

// --- AI SDK v7 telemetry rewritten by @arizeai/openinference-vercel ------------------------------------------
async function vercelScenarios() {
  const ai = await import('ai');
  const { OpenTelemetry } = await import('@ai-sdk/otel');
  const { OpenInferenceSimpleSpanProcessor, isOpenInferenceSpan } = await import('@arizeai/openinference-vercel');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const { z } = await import('zod');
  // the README's set-up: the processor rewrites the AI SDK's spans into OpenInference ones and exports only
  // those (isOpenInferenceSpan), here besides the app's own root span
  const oi = new OpenInferenceSimpleSpanProcessor({ exporter,
    spanFilter: (span) => span.instrumentationScope?.name === 'fixgen.app' || isOpenInferenceSpan(span) });
  provider = new BasicTracerProvider({ resource, spanProcessors: [oi] });
  trace.setGlobalTracerProvider(provider);
  // "Optional, but recommended for fuller OpenInference coverage" (README), headers left out
  ai.registerTelemetry(new OpenTelemetry({ usage: true, providerMetadata: true, runtimeContext: true, toolChoice: true, schema: true }));
  appTracer();
  const oa = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', fetch: withPlan });
  const tel = (functionId) => ({ functionId, recordInputs: true, recordOutputs: true });
  const getOrderStatus = ai.tool({ description: 'Look up an order', inputSchema: z.object({ order_id: z.string() }),
    execute: async ({ order_id }) => lookup(order_id) });
  const gen = (model, prompt, extra = {}) => ai.generateText({ model, system: SYSTEM, prompt, maxRetries: 0,
    telemetry: tel('support'), ...extra });
  return { flush: () => oi.forceFlush(), scenarios: {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan(A1); await gen(oa.chat('gpt-4o-mini'), Q1, { maxOutputTokens: 200 });
        await plan(A2); await gen(oa.responses('gpt-4o-mini'), Q2, { maxOutputTokens: 200 });
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan(C1); await gen(oa.chat('gpt-4o'), Q1);
        await plan(C2); await gen(oa.chat('gpt-4o'), Q2);
        await plan(C3); await gen(oa.chat('o4-mini'), Q3);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        const st = (prompt, extra = {}) => ai.streamText({ model: oa.chat('gpt-4o-mini'), system: SYSTEM, prompt,
          maxRetries: 0, telemetry: tel('stream'), ...extra });
        await plan(S1); let s = st(Q1); await drain(s.textStream); await s.usage;
        await plan(S2); s = st(Q2, { maxOutputTokens: 16 }); await drain(s.textStream); await s.usage;
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        await plan({ ...TOOL_CALL, input: 480, output: 19 }, T2);
        await gen(oa.chat('gpt-4o-mini'), Q1, { tools: { get_order_status: getOrderStatus }, stopWhen: ai.stepCountIs(3),
          telemetry: tel('order-agent') });
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await gen(oa.chat('gpt-4o-mini'), Q1);
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await gen(oa.chat('gpt-4o-mini'), Q1);
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan(D); await gen(oa.chat('gpt-4o-mini'), Q1, { temperature: 0, maxOutputTokens: 100 });
        }
      });
    },
  } };
}

// --- OpenLIT JS over the openai package ------------------------------------------------------------------------
async function openlitScenarios() {
  provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  // openlit dist/otel/tracing.js setup reuses "an existing SDK TracerProvider" (trace.getTracerProvider() with an
  // addSpanProcessor method; the API's global proxy has none, nor has sdk-trace-base 2.x) instead of building its
  // own OTLP / console exporting one: marked so, the app's provider (behind the proxy) and its exporter are used
  trace.getTracerProvider().addSpanProcessor = () => {};
  appTracer();
  const openaiModule = await import('openai');
  const openlit = await import('openlit');
  const Openlit = openlit.default?.default ?? openlit.default;  // CommonJS: exports.default
  fs.writeFileSync('pricing.json', '{}');  // no pricing download from github.com
  // ESM import: the openai instrumentation is applied by hand (``instrumentations``: its manualPatch); no metrics,
  // no log events, no HTTP / framework instrumentations (none installed)
  Openlit.init({ applicationName: 'support-bot', environment: 'fixture', traceContent: true, disableBatch: true,
    disableMetrics: true, disableEvents: true, pricingJson: 'pricing.json',
    instrumentations: { openai: openaiModule } });
  const OpenAI = openaiModule.default;
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', maxRetries: 0, fetch: withPlan });
  const chat = (model, user, extra = {}) => ({ model, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }], ...extra });
  const tools = [{ type: 'function', function: { name: 'get_order_status', description: 'Look up an order',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }];
  return { flush: async () => {}, scenarios: {
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

// --- LangGraph.js createReactAgent under OpenInference's LangChain.js instrumentation ---------------------------
async function langgraphScenarios() {
  provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  appTracer();
  const { LangChainInstrumentation } = await import('@arizeai/openinference-instrumentation-langchain');
  const inst = new LangChainInstrumentation({ tracerProvider: provider });
  inst.manuallyInstrument(await import('@langchain/core/callbacks/manager'));
  const { ChatOpenAI } = await import('@langchain/openai');
  const { createReactAgent } = await import('@langchain/langgraph/prebuilt');
  const { SystemMessage, HumanMessage } = await import('@langchain/core/messages');
  const { tool } = await import('@langchain/core/tools');
  const { z } = await import('zod');
  const lc = (model, extra = {}) => new ChatOpenAI({ model, apiKey: 'sk-fake', maxRetries: 0,
    configuration: { baseURL: `${base}/v1`, fetch: withPlan }, ...extra });
  const getOrderStatus = tool(async ({ order_id }) => lookup(order_id), { name: 'get_order_status',
    description: 'Look up an order', schema: z.object({ order_id: z.string() }) });
  const agent = (llm, tools = []) => createReactAgent({ llm, tools, prompt: new SystemMessage(SYSTEM) });
  const run = (a, q) => a.invoke({ messages: [new HumanMessage(q)] });
  const stream = async (a, q) => { for await (const _ of await a.stream({ messages: [new HumanMessage(q)] }, { streamMode: 'messages' })) { /* every token */ } };
  return { flush: async () => { await new Promise((r) => setTimeout(r, 100)); }, scenarios: {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan(A1); await run(agent(lc('gpt-4o-mini', { maxTokens: 200 })), Q1);
        await plan(A2); await run(agent(lc('gpt-4o-mini', { maxTokens: 200 })), Q2);
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan(C1); await run(agent(lc('gpt-4o')), Q1);
        await plan(C2); await run(agent(lc('gpt-4o')), Q2);
        await plan(C3); await run(agent(lc('o4-mini')), Q3);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan(S1); await stream(agent(lc('gpt-4o-mini', { streaming: true, streamUsage: true })), Q1);
        await plan(S2); await stream(agent(lc('gpt-4o-mini', { streaming: true, streamUsage: true, maxTokens: 16 })), Q2);
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        await plan({ ...TOOL_CALL, input: 480, output: 19 }, T2);
        await run(agent(lc('gpt-4o-mini'), [getOrderStatus]), Q1);
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await run(agent(lc('gpt-4o-mini')), Q1);
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await run(agent(lc('gpt-4o-mini')), Q1);
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan(D); await run(agent(lc('gpt-4o-mini', { temperature: 0, maxTokens: 100 })), Q1);
        }
      });
    },
  } };
}

const runners = { 'openinference-vercel-ai': vercelScenarios, 'openlit-js-openai': openlitScenarios,
  'openinference-langgraph-js': langgraphScenarios };
const runner = runners[source] ? await runners[source]() : null;
if (!runner) throw new Error(`unknown source ${source}`);
await record({ scenarios: runner.scenarios, state, exporter, provider, source, base, outPath, truthPath,
  flush: runner.flush, settle: 50 });
process.exit(0);
