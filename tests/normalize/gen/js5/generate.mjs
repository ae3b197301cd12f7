// Real @opentelemetry/instrumentation-openai spans (OpenTelemetry JS contrib, donated by Elastic) over the openai
// npm SDK, against the fake OpenAI server on 127.0.0.1 (../vercel_ai/fake_server.py; driven by generate.py here,
// see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: otel-js-openai. Every span below `workflow` is the library's; the generator only makes the root
// `workflow` span (scope fixgen.app), as the shared fixtures do. Content capture is on
// (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, set by generate.py): the library writes it as log
// events, not on spans, so the span lines carry no message text.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { planner, workflowOf, record, int64AsString } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const resource = resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
  'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' });
const provider = new BasicTracerProvider({ resource,
  spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
// the library's content log events (gen_ai.system.message, gen_ai.user.message, gen_ai.choice, ...): otlp_logs
const logs = new InMemoryLogRecordExporter();
const loggerProvider = new LoggerProvider({ resource,
  processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
const bedrock = source === 'openllmetry-js-bedrock';
const require = createRequire(import.meta.url); // the CommonJS builds: the ones the instrumentations hook
if (bedrock) {
  const { BedrockInstrumentation } = require('@traceloop/instrumentation-bedrock');
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new BedrockInstrumentation({ traceContent: true })] });
} else {
  registerInstrumentations({ tracerProvider: provider, loggerProvider, instrumentations: [new OpenAIInstrumentation()] });
}
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);
const client = bedrock ? null : new (require('openai').OpenAI)({ baseURL: `${base}/v1`, apiKey: 'sk-fake', maxRetries: 0,
  fetch: withPlan });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const msgs = (q) => [{ role: 'system', content: SYSTEM }, { role: 'user', content: q }];
const chat = (q, extra = {}) => client.chat.completions.create({ model: 'gpt-4o-mini', messages: msgs(q), ...extra });
const TOOLS = [{ type: 'function', function: { name: 'get_order_status', description: 'Look up an order',
  parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }];

const openaiScenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }); await chat(Q1, { max_tokens: 200 });
      await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }); await chat(Q2, { max_tokens: 200 });
      await plan({ input: 9 }); await client.embeddings.create({ model: 'text-embedding-3-small', input: Q1 });
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await plan({ input: 1300, output: 30, text: 'In transit.' }); await chat(Q1, { model: 'o4-mini' });
      await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }); await chat(Q2, { model: 'o4-mini' });
      await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' });
      await chat(Q3, { model: 'o4-mini' });
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      const st = async (q, extra = {}) => {
        const s = await chat(q, { stream: true, stream_options: { include_usage: true }, ...extra });
        for await (const _ of s) { /* drain */ }
      };
      await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' }); await st(Q1);
      await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
      await st(Q2, { max_tokens: 16 });
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 });
      const r = await chat(Q1, { tools: TOOLS });
      const call = r.choices[0].message.tool_calls[0];
      const result = JSON.stringify({ order_id: JSON.parse(call.function.arguments).order_id, status: 'in transit' });
      await plan({ input: 530, output: 15, text: 'Order A-1001 is in transit.' });
      await client.chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [...msgs(Q1),
        r.choices[0].message, { role: 'tool', tool_call_id: call.id, content: result }] });
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
        await plan({ input: 420, output: 12, text: 'In transit.' }); await chat(Q1, { temperature: 0, max_tokens: 100 });
      }
    });
  },
};

// OpenLLMetry JS Bedrock: InvokeModel / InvokeModelWithResponseStream with Anthropic Claude bodies (the only
// commands it reads: @traceloop/instrumentation-bedrock 0.27.0 _startSpan parses input.body; Converse has none)
let brt;
if (bedrock) {
  const b = require('@aws-sdk/client-bedrock-runtime');
  // HTTP/1.1 (the client's default handler speaks HTTP/2, for the bidirectional stream; the fake server does not)
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const rt = new b.BedrockRuntimeClient({ region: 'us-east-1', endpoint: base, maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' } });
  rt.middlewareStack.add((next) => (args) => { Object.assign(args.request.headers, state.headers); return next(args); },
    { step: 'build', name: 'fixgenPlan' });
  const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
  const body = (q, extra = {}) => JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200,
    system: SYSTEM, messages: [{ role: 'user', content: q }], ...extra });
  brt = {
    async invoke(q, extra = {}, modelId = HAIKU) {
      const r = await rt.send(new b.InvokeModelCommand({ modelId, body: body(q, extra), contentType: 'application/json' }));
      return JSON.parse(new TextDecoder().decode(r.body));
    },
    async stream(q, extra = {}) {
      const r = await rt.send(new b.InvokeModelWithResponseStreamCommand({ modelId: HAIKU, body: body(q, extra),
        contentType: 'application/json' }));
      for await (const _ of r.body) { /* drain */ }
    },
    raw: (messages, extra = {}) => rt.send(new b.InvokeModelCommand({ modelId: HAIKU, contentType: 'application/json',
      body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, system: SYSTEM, messages, ...extra }) })),
  };
}
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CACHED_SYSTEM = [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }];
const TOOL = { name: 'get_order_status', description: 'Look up an order',
  input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } };
const bedrockScenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }); await brt.invoke(Q1);
      await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }); await brt.invoke(Q2);
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await plan({ input: 1300, cache_write: 1152, output: 30, text: 'In transit.' });
      await brt.invoke(Q1, { system: CACHED_SYSTEM }, SONNET);
      await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' });
      await brt.invoke(Q2, { system: CACHED_SYSTEM }, SONNET);
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' }); await brt.stream(Q1);
      await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
      await brt.stream(Q2, { max_tokens: 16 });
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 });
      const first = [{ role: 'user', content: Q1 }];
      const r = JSON.parse(new TextDecoder().decode((await brt.raw(first, { tools: [TOOL] })).body));
      const use = r.content.find((c) => c.type === 'tool_use');
      const result = JSON.stringify({ order_id: use.input.order_id, status: 'in transit' });
      await plan({ input: 530, output: 15, text: 'Order A-1001 is in transit.' });
      await brt.raw([...first, { role: 'assistant', content: r.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: result }] }], { tools: [TOOL] });
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try { await plan({ status: 429 }); await brt.invoke(Q1); } catch (e) { /* tries again later */ }
      await plan({ status: 500 }); await brt.invoke(Q1);
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await plan({ input: 420, output: 12, text: 'In transit.' }); await brt.invoke(Q1, { temperature: 0, max_tokens: 100 });
      }
    });
  },
};
const scenarios = bedrock ? bedrockScenarios : openaiScenarios;

// each scenario's log records, put beside its spans as the Python captures' otlp_logs (capture.py Recorder)
const logLines = {};
for (const [name, fn] of Object.entries(scenarios)) {
  scenarios[name] = async () => {
    logs.reset(); await fn(); await loggerProvider.forceFlush();
    logLines[name] = int64AsString(JSON.parse(new TextDecoder().decode(
      JsonLogsSerializer.serializeRequest(logs.getFinishedLogRecords()))));
  };
}
await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath });
if (!bedrock) fs.writeFileSync(outPath, fs.readFileSync(outPath, 'utf8').trim().split('\n')
  .map((l) => { const d = JSON.parse(l); return JSON.stringify({ ...d, otlp_logs: logLines[d.scenario] }); })
  .join('\n') + '\n');
process.exit(0);
