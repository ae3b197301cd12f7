// Real spans of three Node.js instrumentations against the fake Bedrock Runtime / OpenAI-shaped / Cohere v1 server on
// 127.0.0.1 (./fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: openinference-js-bedrock (@arizeai/openinference-instrumentation-bedrock 0.5.1 patching
// @aws-sdk/client-bedrock-runtime 3.1164.0 BedrockRuntimeClient.prototype.send: Converse, ConverseStream,
// InvokeModel, InvokeModelWithResponseStream), openllmetry-js-together (@traceloop/instrumentation-together 0.27.0
// over together-ai 0.52.0 chat.completions.create), openllmetry-js-cohere (@traceloop/instrumentation-cohere 0.27.0
// over cohere-ai 8.1.0 CohereClient chat / chatStream, the v1 Chat API). Every span below `workflow` is the library's.
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
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);
const tool = (name, fn, attrs = {}) => trace.getTracer('fixgen.app').startActiveSpan(`tool.${name}`,
  { attributes: { 'app.tool.name': name, ...attrs } }, async (span) => { try { return await fn(); } finally { span.end(); } });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const ORDER_TOOL = { name: 'get_order_status', description: 'Look up an order',
  schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } };

let scenarios;
if (source === 'openinference-js-bedrock') {
  // every instrumentation here is made disabled (no require hook: an enabled one would patch the module a second
  // time when it is required) and patches the module it is handed: manuallyInstrument(module). This one wraps
  // BedrockRuntimeClient.prototype.send (dist/src/instrumentation.js patch; README "manuallyInstrument")
  const { BedrockInstrumentation } = require('@arizeai/openinference-instrumentation-bedrock');
  const inst = new BedrockInstrumentation({ tracerProvider: provider, instrumentationConfig: { enabled: false } });
  const br = require('@aws-sdk/client-bedrock-runtime');
  inst.manuallyInstrument(br);
  // HTTP/1.1 (the client's default NodeHttp2Handler gets a protocol error from the stdlib fake); maxAttempts 1:
  // a 429 and a 500 reach the app
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
        const toolConfig = { tools: [{ toolSpec: { name: ORDER_TOOL.name, description: ORDER_TOOL.description,
          inputSchema: { json: ORDER_TOOL.schema } } }] };
        await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 },
          { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const messages = [{ role: 'user', content: [{ text: Q1 }] }];
        const first = await client.send(new br.ConverseCommand({ modelId: HAIKU, system: [{ text: SYSTEM }], messages, toolConfig }));
        const use = first.output.message.content.find((b) => b.toolUse).toolUse;
        const out = await tool('get_order_status', async () => ({ order_id: use.input.order_id, status: 'in transit' }),
          { 'app.tool.call_id': use.toolUseId });
        messages.push(first.output.message, { role: 'user', content: [{ toolResult: { toolUseId: use.toolUseId,
          content: [{ json: out }] } }] });
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
} else if (source === 'openllmetry-js-together') {
  // manuallyInstrument(module) wraps module.Chat.Completions.prototype.create (dist/index.js): the Together class
  // carries Chat (together-ai 0.52.0 client.js Together.Chat = Chat, Chat.Completions = Completions)
  const { TogetherInstrumentation } = require('@traceloop/instrumentation-together');
  const inst = new TogetherInstrumentation({ enabled: false, traceContent: true });
  inst.setTracerProvider(provider);
  const { Together } = require('together-ai');
  inst.manuallyInstrument(Together);
  // baseURL the fake's OpenAI-shaped /v1; no SDK retries (maxRetries 0: a 429 and a 500 reach the app)
  const client = new Together({ apiKey: 'fake-together-key', baseURL: `${base}/v1`, maxRetries: 0, fetch: withPlan });
  const MODEL = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
  const chat = (q, extra = {}) => client.chat.completions.create({ model: MODEL,
    messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: q }], ...extra });
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }); await chat(Q1, { max_tokens: 200 });
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }); await chat(Q2, { max_tokens: 200 });
      });
    },
    async cached() {
      // prompt_tokens_details.cached_tokens (the OpenAI shape the fake answers)
      await workflow('cached-support', async () => {
        await plan({ input: 1300, output: 30, text: 'In transit.' }); await chat(Q1);
        await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }); await chat(Q2);
        await plan({ input: 1320, cache_read: 1280, output: 26, text: 'Awaiting pickup.' }); await chat(Q3);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        for await (const _ of await chat(Q1, { stream: true })) { /* the app reads every chunk */ }
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        for await (const _ of await chat(Q2, { stream: true, max_tokens: 16 })) { /* every chunk */ }
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const tools = [{ type: 'function', function: { name: ORDER_TOOL.name, description: ORDER_TOOL.description,
          parameters: ORDER_TOOL.schema } }];
        await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 },
          { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const messages = [{ role: 'system', content: SYSTEM }, { role: 'user', content: Q1 }];
        const first = await client.chat.completions.create({ model: MODEL, messages, tools });
        const call = first.choices[0].message.tool_calls[0];
        const args = JSON.parse(call.function.arguments);
        const out = await tool('get_order_status', async () => ({ order_id: args.order_id, status: 'in transit' }),
          { 'app.tool.call_id': call.id });
        messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(out) });
        await client.chat.completions.create({ model: MODEL, messages, tools });
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
} else if (source === 'openllmetry-js-cohere') {
  // manuallyInstrument(module) wraps CohereClient.prototype generate / generateStream / chat / chatStream / rerank
  // (dist/index.js wrap): the v1 API client
  const { CohereInstrumentation } = require('@traceloop/instrumentation-cohere');
  const inst = new CohereInstrumentation({ enabled: false, traceContent: true });
  inst.setTracerProvider(provider);
  const cohere = require('cohere-ai');
  inst.manuallyInstrument(cohere);
  // baseUrl the fake; the SDK's fetch is ours (the plan headers); no retries (a 429 and a 500 reach the app)
  const client = new cohere.CohereClient({ token: 'fake-cohere-key', baseUrl: base, maxRetries: 0, fetch: withPlan });
  const MODEL = 'command-r-plus-08-2024';
  const chat = (message, extra = {}) => client.chat({ model: MODEL, preamble: SYSTEM, message, ...extra });
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' });
        const r = await chat(Q1, { maxTokens: 200 });
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' });
        await chat(Q2, { maxTokens: 200, chatHistory: [{ role: 'USER', message: Q1 }, { role: 'CHATBOT', message: r.text }] });
      });
    },
    async cached() {
      // meta.cached_tokens (ApiMeta cachedTokens)
      await workflow('cached-support', async () => {
        await plan({ input: 1300, output: 30, text: 'In transit.' }); await chat(Q1);
        await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }); await chat(Q2);
        await plan({ input: 1320, cache_read: 1280, output: 26, text: 'Awaiting pickup.' }); await chat(Q3);
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        for await (const _ of await client.chatStream({ model: MODEL, preamble: SYSTEM, message: Q1 })) { /* every event */ }
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        for await (const _ of await client.chatStream({ model: MODEL, preamble: SYSTEM, message: Q2, maxTokens: 16 })) { /* */ }
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const tools = [{ name: ORDER_TOOL.name, description: ORDER_TOOL.description,
          parameterDefinitions: { order_id: { type: 'str', description: 'the order id', required: true } } }];
        await plan({ finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } }, input: 480, output: 19 },
          { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const first = await chat(Q1, { tools });
        const call = first.toolCalls[0];
        const out = await tool('get_order_status', async () => ({ order_id: call.parameters.order_id, status: 'in transit' }));
        await chat('', { tools, chatHistory: first.chatHistory, toolResults: [{ call, outputs: [out] }] });
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try { await plan({ status: 429 }); await chat(Q1); } catch (e) { /* tries again later */ }
        await plan({ status: 500 }); await chat(Q1);
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan({ input: 420, output: 12, text: 'In transit.' }); await chat(Q1, { temperature: 0, maxTokens: 100 });
        }
      });
    },
  };
} else {
  throw new Error(`unknown source ${source}`);
}

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath });
process.exit(0);
