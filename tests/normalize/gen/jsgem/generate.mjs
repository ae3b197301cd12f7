// Real spans of Firebase Genkit over its Gemini API plugin, and of OpenLLMetry JS's Bedrock instrumentation over
// the AWS SDK's BedrockRuntimeClient, against the fake Gemini / Bedrock Runtime server on 127.0.0.1
// (./fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: genkit-googleai (genkit 1.42.0 + @genkit-ai/google-genai 1.42.0 googleAI({baseUrl}), Genkit's own
// genkit:* action spans, scope genkit-tracer), bedrock-converse-openllmetry-js (@traceloop/instrumentation-bedrock
// 0.27.0 patching @aws-sdk/client-bedrock-runtime 3.1164.0 BedrockRuntimeClient.prototype.send: Converse,
// ConverseStream, InvokeModel, InvokeModelWithResponseStream). Every span below `workflow` is the library's.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createRequire } from 'node:module';
import { planner, workflowOf, record } from './capture.mjs';

const [source, port, outPath, truthPath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const require = createRequire(import.meta.url);
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'support-bot', 'deployment.environment': 'fixture',
    'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
const { state, plan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';

let scenarios;
if (source === 'genkit-googleai') {
  // Genkit's own NodeSDK off (lib/tracing.js enableTelemetry returns at once): its tracer
  // (trace.getTracer('genkit-tracer'), @genkit-ai/core lib/tracing/instrumentation.js runInNewSpan) is the global
  // provider above; its spans stay under the app's root span (disableOTelRootSpanDetection)
  const gkTracing = require('genkit/tracing');
  gkTracing.disableGenkitOTelInitialization();
  gkTracing.disableOTelRootSpanDetection();
  // the plugin calls the global fetch (@genkit-ai/google-genai lib/googleai/client.js makeRequest): the plan
  // headers are added to every request to the fake
  const realFetch = globalThis.fetch;
  globalThis.fetch = (url, init = {}) => {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(state.headers)) headers.set(k, v);
    return realFetch(url, { ...init, headers });
  };
  const { genkit, z } = require('genkit');
  const { googleAI } = require('@genkit-ai/google-genai');
  const ai = genkit({ plugins: [googleAI({ apiKey: 'fake-key', baseUrl: base, apiVersion: 'v1beta' })] });
  const FAST = 'googleai/gemini-2.5-flash';
  const PRO = 'googleai/gemini-2.5-pro';
  const chat = (prompt, extra = {}) => ai.generate({ model: FAST, system: SYSTEM, prompt, ...extra });
  const getOrderStatus = ai.defineTool({ name: 'get_order_status', description: 'Look up an order',
    inputSchema: z.object({ order_id: z.string() }), outputSchema: z.object({ order_id: z.string(), status: z.string() }) },
  async ({ order_id }) => ({ order_id, status: 'in transit' }));
  const supportFlow = ai.defineFlow({ name: 'supportFlow', inputSchema: z.string(), outputSchema: z.string() },
    async (q) => (await chat(q, { config: { maxOutputTokens: 200 } })).text);
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }); await supportFlow(Q1);
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }); await supportFlow(Q2);
      });
    },
    async cached() {
      // Gemini: cachedContentTokenCount (inside promptTokenCount) and thoughtsTokenCount (apart from candidates)
      await workflow('cached-support', async () => {
        await plan({ input: 1300, output: 30, text: 'In transit.' }); await chat(Q1, { model: PRO });
        await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }); await chat(Q2, { model: PRO });
        await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' });
        await chat(Q3, { model: PRO });
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        const st = async (q, config = {}) => {
          const { stream, response } = ai.generateStream({ model: FAST, system: SYSTEM, prompt: q, config });
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
} else if (source === 'bedrock-converse-openllmetry-js') {
  // enabled at construction: its require hook (InstrumentationNodeModuleDefinition '@aws-sdk/client-bedrock-runtime'
  // >=3.499.0) patches BedrockRuntimeClient.prototype.send when the SDK is required below
  const { BedrockInstrumentation } = require('@traceloop/instrumentation-bedrock');
  const inst = new BedrockInstrumentation({ traceContent: true });
  inst.setTracerProvider(provider);
  const br = require('@aws-sdk/client-bedrock-runtime');
  // HTTP/1.1 (the client's default NodeHttp2Handler, for its bidirectional streams, gets a protocol error from
  // the stdlib fake); maxAttempts 1: a 429 and a 500 reach the app
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const client = new br.BedrockRuntimeClient({ region: 'us-east-1', endpoint: base, maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' } });
  // the plan headers, added before SigV4 signing (build step)
  client.middlewareStack.add((next) => async (args) => {
    for (const [k, v] of Object.entries(state.headers)) args.request.headers[k] = v;
    return next(args);
  }, { step: 'build', name: 'fixgenPlan' });
  const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
  const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
  const converse = (modelId, q, extra = {}) => client.send(new br.ConverseCommand({ modelId, system: [{ text: SYSTEM }],
    messages: [{ role: 'user', content: [{ text: q }] }], ...extra }));
  const invoke = (modelId, q, extra = {}) => client.send(new br.InvokeModelCommand({ modelId, contentType: 'application/json',
    body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, system: SYSTEM,
      messages: [{ role: 'user', content: q }], ...extra }) }));
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' });
        await converse(HAIKU, Q1, { inferenceConfig: { maxTokens: 200 } });
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' });
        await invoke(HAIKU, Q2);
      });
    },
    async cached() {
      // a cache write then reads, over InvokeModel (Anthropic body) and Converse
      await workflow('cached-support', async () => {
        await plan({ input: 1300, cache_write: 1152, output: 30, text: 'In transit.' }); await invoke(SONNET, Q1);
        await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }); await invoke(SONNET, Q2);
        await plan({ input: 1320, cache_read: 1152, output: 26, text: 'Awaiting pickup.' }); await converse(SONNET, Q3);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        let r = await client.send(new br.ConverseStreamCommand({ modelId: HAIKU, system: [{ text: SYSTEM }],
          messages: [{ role: 'user', content: [{ text: Q1 }] }] }));
        for await (const _ of r.stream) { /* the app reads every event */ }
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        r = await client.send(new br.InvokeModelWithResponseStreamCommand({ modelId: HAIKU, contentType: 'application/json',
          body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 16, system: SYSTEM,
            messages: [{ role: 'user', content: Q2 }] }) }));
        for await (const _ of r.body) { /* the app reads every chunk */ }
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const toolConfig = { tools: [{ toolSpec: { name: 'get_order_status', description: 'Look up an order',
          inputSchema: { json: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } } }] };
        await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 },
          { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const messages = [{ role: 'user', content: [{ text: Q1 }] }];
        const first = await client.send(new br.ConverseCommand({ modelId: HAIKU, system: [{ text: SYSTEM }], messages, toolConfig }));
        const use = first.output.message.content.find((b) => b.toolUse).toolUse;
        messages.push(first.output.message, { role: 'user', content: [{ toolResult: { toolUseId: use.toolUseId,
          content: [{ json: { order_id: use.input.order_id, status: 'in transit' } }] } }] });
        await client.send(new br.ConverseCommand({ modelId: HAIKU, system: [{ text: SYSTEM }], messages, toolConfig }));
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try { await plan({ status: 429 }); await converse(HAIKU, Q1); } catch (e) { /* tries again later */ }
        await plan({ status: 500 }); await invoke(HAIKU, Q1);
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan({ input: 420, output: 12, text: 'In transit.' }); await invoke(HAIKU, Q1, { temperature: 0, max_tokens: 100 });
        }
      });
    },
  };
} else {
  throw new Error(`unknown source ${source}`);
}

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath });
process.exit(0);
