// Real Vercel AI SDK spans against fake OpenAI / Anthropic servers on 127.0.0.1 (see run.sh, README.md).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source> is vercel-ai-v5 | vercel-ai-v6 | vercel-ai-v7 | vercel-ai-v7-legacy. Run from a directory whose
// node_modules holds that version's package.json (run.sh does this). Every span below `workflow` is made by
// the `ai` package (v7: by @ai-sdk/otel's OpenTelemetry / LegacyOpenTelemetry integration); the generator
// only makes the root `workflow` span (scope fixgen.app), as the shared fixtures do.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import * as ai from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import { workflowOf, record } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
    'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
trace.setGlobalTracerProvider(provider);

if (source.startsWith('vercel-ai-v7')) {
  const otel = await import('@ai-sdk/otel');
  ai.registerTelemetry(source === 'vercel-ai-v7-legacy' ? new otel.LegacyOpenTelemetry() : new otel.OpenTelemetry());
}

const fetchAfterPlans = async (url, init) => { await Promise.all(pending); return fetch(url, init); };
const openai = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', fetch: fetchAfterPlans });
const anthropic = createAnthropic({ baseURL: `${base}/v1`, apiKey: 'sk-ant-fake', fetch: fetchAfterPlans });
const embeddingModel = (id) => (openai.embedding ?? openai.textEmbeddingModel)(id);

const state = { scenario: '' };
let planSeq = 0;
// headers name the fake server's scripted answer (fake_server.py docstring), registered by POST /_plan; the
// providers' fetch waits for those registrations before the model request leaves
const pending = [];
const plan = (...steps) => {
  const id = `${source}-${++planSeq}`;
  pending.push(fetch(`${base}/_plan`, { method: 'POST', body: JSON.stringify({ id, steps }) }));
  return { 'x-fixgen-scenario': state.scenario, 'x-fixgen-plan': id };
};
const telemetry = (functionId) => ({ isEnabled: true, recordInputs: true, recordOutputs: true, functionId });

const workflow = workflowOf(trace.getTracer('fixgen.app'), state, { giveUpReason: true });

const SYSTEM = 'You are a support assistant for ACME. '.repeat(40);
const getOrderStatus = ai.tool({
  description: 'Look up an order',
  inputSchema: z.object({ order_id: z.string() }),
  execute: async ({ order_id }) => ({ order_id, status: 'in transit' }),
});

const scenarios = {
  async healthy() {
    await workflow('support-triage', async () => {
      await ai.generateText({ model: openai('gpt-4o-mini'), prompt: 'Classify: my parcel is late', maxOutputTokens: 100,
        headers: plan({ input: 42, output: 7, text: 'shipping' }), experimental_telemetry: telemetry('triage') });
      await ai.generateText({ model: anthropic('claude-3-5-haiku-latest'), prompt: 'Write a short apology', maxOutputTokens: 200,
        headers: plan({ input: 120, output: 35, text: 'We are sorry for the delay.' }), experimental_telemetry: telemetry('reply') });
    }, { 'gen_ai.workflow.name': 'support-triage' });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await ai.generateText({ model: anthropic('claude-sonnet-4-5'), system: SYSTEM, prompt: 'Where is order A-1001?',
        headers: plan({ input: 9200, cache_read: 0, cache_write: 8960, output: 40 }), experimental_telemetry: telemetry('cached') });
      await ai.generateText({ model: anthropic('claude-sonnet-4-5'), system: SYSTEM, prompt: 'And order A-1002?',
        headers: plan({ input: 9260, cache_read: 8960, cache_write: 0, output: 38 }), experimental_telemetry: telemetry('cached') });
      await ai.generateText({ model: openai('gpt-4o'), system: SYSTEM, prompt: 'And order A-1003?',
        headers: plan({ input: 9310, cache_read: 8960, output: 36 }), experimental_telemetry: telemetry('cached') });
      await ai.generateText({ model: openai.chat('gpt-4o'), system: SYSTEM, prompt: 'And order A-1004?',
        headers: plan({ input: 9330, cache_read: 9216, output: 30 }), experimental_telemetry: telemetry('cached') });
    });
  },
  async reasoning() {
    await workflow('reasoning-burn', async () => {
      await ai.generateText({ model: openai('o3-mini'), prompt: 'What is 2+2?',
        headers: plan({ input: 14, output: 14080 + 12, reasoning: 14080, text: '4' }), experimental_telemetry: telemetry('think') });
      await ai.generateText({ model: openai.chat('o3-mini'), prompt: 'What is 3+3?',
        headers: plan({ input: 14, output: 12096 + 9, reasoning: 12096, text: '6' }), experimental_telemetry: telemetry('think') });
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      const a = ai.streamText({ model: openai('gpt-4o-mini'), prompt: 'Tell me about shipping', maxOutputTokens: 512,
        headers: plan({ input: 30, output: 60, text: 'Shipping takes three to five days.' }), experimental_telemetry: telemetry('stream') });
      for await (const _ of a.textStream) { /* drain */ }
      await a.usage;
      const b = ai.streamText({ model: anthropic('claude-3-5-haiku-latest'), prompt: 'Write a long essay', maxOutputTokens: 64,
        headers: plan({ input: 25, output: 64, finish: 'length', text: 'Once upon a time there was' }), experimental_telemetry: telemetry('stream') });
      for await (const _ of b.textStream) { /* drain */ }
      await b.usage;
      const c = ai.streamText({ model: openai.chat('gpt-4o-mini'), prompt: 'Summarize the policy', maxOutputTokens: 256,
        headers: plan({ input: 44, cache_read: 0, output: 21, text: 'Refunds within 30 days.' }), experimental_telemetry: telemetry('stream') });
      for await (const _ of c.textStream) { /* drain */ }
      await c.usage;
    });
  },
  async tool_loop() {
    const call = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } } };
    await workflow('order-agent', async () => {
      await ai.generateText({ model: openai('gpt-4o-mini'), tools: { get_order_status: getOrderStatus }, stopWhen: ai.stepCountIs(4),
        prompt: 'Where is my order A-1001?',
        headers: plan({ ...call, input: 80, output: 18 }, { ...call, input: 120, output: 18 }, { ...call, input: 160, output: 18 },
          { input: 200, output: 25, text: 'Your order is in transit.' }),
        experimental_telemetry: telemetry('order-agent') });
    });
    await workflow('order-agent-claude', async () => {
      await ai.generateText({ model: anthropic('claude-sonnet-4-5'), tools: { get_order_status: getOrderStatus }, stopWhen: ai.stepCountIs(3),
        prompt: 'Where is my order A-1001?',
        headers: plan({ ...call, input: 300, cache_read: 0, cache_write: 256, output: 30 }, { ...call, input: 350, cache_read: 256, output: 30 },
          { ...call, input: 400, cache_read: 256, output: 30 }),
        experimental_telemetry: telemetry('order-agent') });
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try {
        await ai.generateText({ model: openai('gpt-4o-mini'), prompt: 'Hello', maxRetries: 0,
          headers: plan({ status: 429, retry_after: '1' }), experimental_telemetry: telemetry('flaky') });
      } catch (e) { /* the app moves on to the other provider */ }
      await ai.generateText({ model: anthropic('claude-3-5-haiku-latest'), prompt: 'Hello', maxRetries: 0,
        headers: plan({ status: 500 }), experimental_telemetry: telemetry('flaky') });
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await ai.generateText({ model: openai('gpt-4o-mini'), prompt: 'What are your opening hours?', temperature: 0, maxOutputTokens: 100,
          headers: plan({ input: 18, output: 12, text: '9 to 5.' }), experimental_telemetry: telemetry('faq') });
      }
    });
  },
  async embeddings() {
    await workflow('index-docs', async () => {
      await ai.embed({ model: embeddingModel('text-embedding-3-small'), value: 'refund policy',
        headers: plan({ input: 3 }), experimental_telemetry: telemetry('embed') });
      await ai.embedMany({ model: embeddingModel('text-embedding-3-small'), values: ['a b', 'c d e', 'f'],
        headers: plan({ input: 9 }), experimental_telemetry: telemetry('embed') });
    });
  },
};

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath, appPaths: false });
