// Real Firebase Genkit spans (genkit 1.42.0, its own genkit:* attributes; scope genkit-tracer) over the
// OpenAI-compatible model plugin @genkit-ai/compat-oai 1.42.0 (openai npm SDK underneath), against the fake OpenAI
// server on 127.0.0.1 (../vercel_ai/fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: genkit-openai. Genkit's own OTel set-up (a NodeSDK, @genkit-ai/core lib/tracing/node-telemetry-
// provider.js enableTelemetry) is turned off with disableGenkitOTelInitialization() (lib/tracing.js: enableTelemetry
// returns at once), so its tracer (trace.getTracer('genkit-tracer', 'v1'), lib/tracing/instrumentation.js
// runInNewSpan) is the app's global provider below, an in-memory exporter. Every span below `workflow` is Genkit's;
// content is on the spans always (genkit:input / genkit:output, metadataToAttributes).
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createRequire } from 'node:module';
import { planner, workflowOf, record } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const require = createRequire(import.meta.url);
const gkTracing = require('genkit/tracing');
gkTracing.disableGenkitOTelInitialization();
// Genkit starts a new trace for an action with no Genkit parent (runInNewSpan: spanOptions.root = isRoot) unless
// told not to: then its spans stay under the app's own root span
gkTracing.disableOTelRootSpanDetection();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
    'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
trace.setGlobalTracerProvider(provider);

const { genkit, z } = require('genkit');
const { openAICompatible } = require('@genkit-ai/compat-oai');
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);
// no SDK retries: a 429 and a 500 reach the app (openai's ClientOptions, passed on by openAICompatible)
const ai = genkit({ plugins: [openAICompatible({ name: 'openai', apiKey: 'sk-fake', baseURL: `${base}/v1`,
  maxRetries: 0, fetch: withPlan })] });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const MODEL = 'openai/gpt-4o-mini';
const chat = (prompt, extra = {}) => ai.generate({ model: MODEL, system: SYSTEM, prompt, ...extra });
const getOrderStatus = ai.defineTool({ name: 'get_order_status', description: 'Look up an order',
  inputSchema: z.object({ order_id: z.string() }), outputSchema: z.object({ order_id: z.string(), status: z.string() }) },
async ({ order_id }) => ({ order_id, status: 'in transit' }));
const supportFlow = ai.defineFlow({ name: 'supportFlow', inputSchema: z.string(), outputSchema: z.string() },
  async (q) => (await chat(q, { config: { maxOutputTokens: 200 } })).text);

const scenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }); await supportFlow(Q1);
      await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }); await supportFlow(Q2);
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await plan({ input: 1300, output: 30, text: 'In transit.' }); await chat(Q1, { model: 'openai/o4-mini' });
      await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' });
      await chat(Q2, { model: 'openai/o4-mini' });
      await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' });
      await chat(Q3, { model: 'openai/o4-mini' });
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      const st = async (q, config = {}) => {
        const { stream, response } = ai.generateStream({ model: MODEL, system: SYSTEM, prompt: q, config });
        for await (const _ of stream) { /* the app reads every chunk */ }
        await response;
      };
      await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' }); await st(Q1);
      await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
      await st(Q2, { maxOutputTokens: 16 });
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      // one generate: Genkit runs the tool and asks the model again (ai/lib/generate/action.js generate loop)
      await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 },
        { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
      await chat(Q1, { tools: [getOrderStatus] });
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try { await plan({ status: 429, retry_after: '1' }); await chat(Q1); } catch (e) { /* tries again later */ }
      await plan({ status: 500 }); await chat(Q1);
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await plan({ input: 420, output: 12, text: 'In transit.' });
        await chat(Q1, { config: { temperature: 0, maxOutputTokens: 100 } });
      }
    });
  },
};

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath });
process.exit(0);
