// Real Vercel AI SDK spans over the Google and Amazon Bedrock providers, against the fake Gemini / Bedrock server
// on 127.0.0.1 (./fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: vercel-ai-v5-google (ai 5 + @ai-sdk/google 2, legacy ai.* telemetry via experimental_telemetry),
// vercel-ai-google (latest ai + @ai-sdk/google, @ai-sdk/otel OpenTelemetry registered, its defaults),
// vercel-ai-bedrock (latest ai + @ai-sdk/amazon-bedrock, Converse). Every span below `workflow` is the
// library's; the generator only makes the root `workflow` span (scope fixgen.app), as the shared fixtures do.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { z } from 'zod';
import { planner, workflowOf, record } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
    'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);

const v5 = source === 'vercel-ai-v5-google';
const ai = await import(v5 ? 'ai-v5' : 'ai');
let model;
if (v5) {
  const { createGoogleGenerativeAI } = await import('ai-sdk-google-v2');
  const g = createGoogleGenerativeAI({ baseURL: `${base}/v1beta`, apiKey: 'fake-key', fetch: withPlan });
  model = { fast: g('gemini-2.5-flash'), pro: g('gemini-2.5-pro') };
} else {
  const { OpenTelemetry } = await import('@ai-sdk/otel');
  ai.registerTelemetry(new OpenTelemetry());
  if (source === 'vercel-ai-google') {
    const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
    const g = createGoogleGenerativeAI({ baseURL: `${base}/v1beta`, apiKey: 'fake-key', fetch: withPlan });
    model = { fast: g('gemini-2.5-flash'), pro: g('gemini-2.5-pro') };
  } else {
    const { createAmazonBedrock } = await import('@ai-sdk/amazon-bedrock');
    const b = createAmazonBedrock({ baseURL: base, region: 'us-east-1', accessKeyId: 'AKIAFAKEFAKEFAKE',
      secretAccessKey: 'fake-secret', fetch: withPlan });
    model = { fast: b('anthropic.claude-3-5-haiku-20241022-v1:0'), pro: b('us.anthropic.claude-sonnet-4-5-20250929-v1:0') };
  }
}
const bedrock = source === 'vercel-ai-bedrock';
const tel = (functionId) => (v5 ? { experimental_telemetry: { isEnabled: true, recordInputs: true, recordOutputs: true, functionId } }
  : { telemetry: { functionId, recordInputs: true, recordOutputs: true } });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const A1 = { input: 420, output: 24, text: 'Order A-1001 is in transit.' };
const A2 = { input: 430, output: 22, text: 'Order A-1002 was delivered.' };
const S1 = { input: 420, output: 18, text: 'Order A-1001 is in transit.' };
const S2 = { input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' };
// Gemini: cachedContentTokenCount (read) and thoughtsTokenCount; Bedrock Converse: cache write then read
const C1 = bedrock ? { input: 1300, cache_write: 1152, output: 30, text: 'In transit.' } : { input: 1300, output: 30, text: 'In transit.' };
const C2 = { input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' };
const C3 = bedrock ? { input: 1320, cache_read: 1152, output: 26, text: 'Awaiting pickup.' }
  : { input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' };
const D = { input: 420, output: 12, text: 'In transit.' };
const TOOL_CALL = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 };
const T2 = { input: 530, output: 15, text: 'Order A-1001 is in transit.' };
const getOrderStatus = ai.tool({ description: 'Look up an order', inputSchema: z.object({ order_id: z.string() }),
  execute: async ({ order_id }) => JSON.stringify({ order_id, status: 'in transit' }) });
const gen = (m, prompt, extra = {}) => ai.generateText({ model: m, system: SYSTEM, prompt, maxRetries: 0, ...tel('support'), ...extra });

const scenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await plan(A1); await gen(model.fast, Q1, { maxOutputTokens: 200 });
      await plan(A2); await gen(model.fast, Q2, { maxOutputTokens: 200 });
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await plan(C1); await gen(model.pro, Q1);
      await plan(C2); await gen(model.pro, Q2);
      await plan(C3); await gen(model.pro, Q3);
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      const st = (prompt, extra = {}) => ai.streamText({ model: model.fast, system: SYSTEM, prompt, maxRetries: 0, ...tel('stream'), ...extra });
      await plan(S1); let s = st(Q1); for await (const _ of s.textStream) { /* drain */ } await s.usage;
      await plan(S2); s = st(Q2, { maxOutputTokens: 16 }); for await (const _ of s.textStream) { /* drain */ } await s.usage;
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      await plan(TOOL_CALL, T2);
      await gen(model.fast, Q1, { tools: { get_order_status: getOrderStatus }, stopWhen: ai.stepCountIs(3), ...tel('order-agent') });
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try { await plan({ status: 429, retry_after: '1' }); await gen(model.fast, Q1); } catch (e) { /* tries again later */ }
      await plan({ status: 500 }); await gen(model.fast, Q1);
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) { await plan(D); await gen(model.fast, Q1, { temperature: 0, maxOutputTokens: 100 }); }
    });
  },
};

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath });
process.exit(0);
