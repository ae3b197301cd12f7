// Real OpenLIT JS (openlit) spans over three more providers against the fake Anthropic / Bedrock Runtime / Cohere v1
// server on 127.0.0.1 (../jsmore/fake_server.py; driven by generate.py here, see its docstring).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: openlit-js-anthropic (openlit's anthropic instrumentation over @anthropic-ai/sdk Messages.create),
// openlit-js-bedrock (its bedrock instrumentation over @aws-sdk/client-bedrock-runtime BedrockRuntimeClient.send:
// Converse / ConverseStream), openlit-js-cohere (its cohere instrumentation over cohere-ai CohereClient chat /
// chatStream, the v1 Chat API). One Openlit.init per process, its instrumentation applied by hand to the module the
// app loads (``instrumentations``: manualPatch). Every span below `workflow` is the library's; the generator only
// makes the root `workflow` span and the app's `tool.*` span (scope fixgen.app), as the shared fixtures do.
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { planner, workflowOf, record, guardLoopback } from './capture.mjs';

const refused = guardLoopback();

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
// openlit 1.15.0 dist/otel/tracing.js setup reuses "an existing SDK TracerProvider" (trace.getTracerProvider() with an
// addSpanProcessor method; the API's global proxy has none, nor has sdk-trace-base 2.x) instead of building its own
// OTLP / console exporting one: marked so, the app's provider (behind the proxy) and its exporter are used (as js3)
trace.getTracerProvider().addSpanProcessor = () => {};
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state);
const tool = (name, fn, attrs = {}) => trace.getTracer('fixgen.app').startActiveSpan(`tool.${name}`,
  { attributes: { 'app.tool.name': name, ...attrs } }, async (span) => { try { return await fn(); } finally { span.end(); } });

const openlitModule = require('openlit');
const Openlit = openlitModule.default?.default ?? openlitModule.default ?? openlitModule;  // CommonJS: exports.default
fs.writeFileSync('pricing.json', '{}');  // no pricing download from github.com
// the module is applied by hand (``instrumentations``: its manualPatch); no metrics, no log events, no HTTP /
// framework instrumentations (none installed)
const instrument = (instrumentations) => Openlit.init({ applicationName: 'support-bot', environment: 'fixture',
  traceContent: true, disableBatch: true, disableMetrics: true, disableEvents: true, pricingJson: 'pricing.json',
  instrumentations });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const Q3 = 'And order A-1003?';
const LONG_Q3 = `${Q3} ${'My earlier messages follow. '.repeat(200)}`;
const TOOL_CALL = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } } };
const ORDER_TOOL = { name: 'get_order_status', description: 'Look up an order',
  schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } };
const lookup = (orderId) => ({ order_id: orderId, status: 'in transit' });
async function drain(stream) { for await (const _ of stream) { /* the app reads every chunk */ } }

let scenarios;
if (source === 'openlit-js-anthropic') {
  // the ESM build, as an app's ``import Anthropic from '@anthropic-ai/sdk'`` loads it: patched by hand
  // (dist/instrumentation/anthropic/index.js _patch wraps ``(module.Anthropic ?? module).Messages.prototype.create``)
  const mod = await import('@anthropic-ai/sdk');
  instrument({ anthropic: mod });
  // openTelemetry false: the SDK's own call spans (@anthropic-ai/sdk >= 1 internal/tracing.js, scope
  // com.anthropic.sdk.typescript, on by default once a tracer provider is set) left out, so the trace holds OpenLIT's
  // spans only (the SDK's own are captured in tests/normalize/data/anthropic-sdk*.jsonl)
  const anthropic = new mod.default({ baseURL: base, apiKey: 'sk-ant-fake', maxRetries: 0, fetch: withPlan,
    openTelemetry: false });
  const msg = (model, user, extra = {}) => ({ model, max_tokens: 256, system: SYSTEM, messages: [{ role: 'user', content: user }], ...extra });
  const cachedSystem = [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }];
  const tools = [{ name: ORDER_TOOL.name, description: ORDER_TOOL.description, input_schema: ORDER_TOOL.schema }];
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' });
        await anthropic.messages.create(msg('claude-haiku-4-5', Q1, { max_tokens: 200 }));
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' });
        await anthropic.messages.create(msg('claude-haiku-4-5', Q2, { max_tokens: 200 }));
      });
    },
    async cached() {
      await workflow('cached-support', async () => {
        await plan({ input: 1300, cache_write: 1200, output: 30, text: 'In transit.' });
        await anthropic.messages.create(msg('claude-sonnet-4-5', Q1, { system: cachedSystem }));
        await plan({ input: 1310, cache_read: 1200, output: 28, text: 'Delivered.' });
        await anthropic.messages.create(msg('claude-sonnet-4-5', Q2, { system: cachedSystem }));
        // more new input than cached: Anthropic's input_tokens (cache excluded) is then above the cache read
        await plan({ input: 3100, cache_read: 1200, output: 26, text: 'Awaiting pickup.' });
        await anthropic.messages.create(msg('claude-sonnet-4-5', LONG_Q3, { system: cachedSystem }));
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        await drain(await anthropic.messages.create(msg('claude-haiku-4-5', Q1, { stream: true })));
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        await drain(await anthropic.messages.create(msg('claude-haiku-4-5', Q2, { stream: true, max_tokens: 16 })));
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        await plan({ ...TOOL_CALL, input: 480, output: 40 }, { input: 560, output: 15, text: 'Order A-1001 is in transit.' });
        const messages = [{ role: 'user', content: Q1 }];
        const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, system: SYSTEM, messages, tools });
        const use = first.content.find((b) => b.type === 'tool_use');
        const out = await tool('get_order_status', async () => lookup(use.input.order_id), { 'app.tool.call_id': use.id });
        messages.push({ role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: JSON.stringify(out) }] });
        await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, system: SYSTEM, messages, tools });
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try {
          await plan({ status: 429, retry_after: '1' }); await anthropic.messages.create(msg('claude-haiku-4-5', Q1));
        } catch (e) { /* the app tries once more, later */ }
        await plan({ status: 500 }); await anthropic.messages.create(msg('claude-haiku-4-5', Q1));
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan({ input: 420, output: 12, text: 'In transit.' });
          await anthropic.messages.create(msg('claude-haiku-4-5', Q1, { temperature: 0, max_tokens: 100 }));
        }
      });
    },
  };
} else if (source === 'openlit-js-bedrock') {
  // dist/instrumentation/bedrock/index.js _patch wraps BedrockRuntimeClient.prototype.send; its wrapper.js _patchSend
  // traces ConverseCommand and ConverseStreamCommand only (by ``command.constructor.name``): InvokeModel passes by
  // untraced, so only Converse is driven here
  const br = require('@aws-sdk/client-bedrock-runtime');
  instrument({ bedrock: br });
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
  const converseStream = async (modelId, q, extra = {}) => {
    const r = await client.send(new br.ConverseStreamCommand({ modelId, system: [{ text: SYSTEM }],
      messages: [{ role: 'user', content: [{ text: q }] }], ...extra }));
    await drain(r.stream);
  };
  const cachedSystem = [{ text: SYSTEM }, { cachePoint: { type: 'default' } }];
  scenarios = {
    async healthy() {
      await workflow('support-chat', async () => {
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' });
        await converse(HAIKU, Q1, { inferenceConfig: { maxTokens: 200 } });
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' });
        await converse(HAIKU, Q2, { inferenceConfig: { maxTokens: 200 } });
      });
    },
    async cached() {
      // a cache write then reads (Converse usage cacheWriteInputTokens / cacheReadInputTokens)
      await workflow('cached-support', async () => {
        await plan({ input: 1300, cache_write: 1152, output: 30, text: 'In transit.' });
        await converse(SONNET, Q1, { system: cachedSystem });
        await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' });
        await converse(SONNET, Q2, { system: cachedSystem });
        // more new input than cached: Converse's inputTokens (cache excluded) is then above the cache read
        await plan({ input: 3100, cache_read: 1152, output: 26, text: 'Awaiting pickup.' });
        await converse(SONNET, LONG_Q3, { system: cachedSystem });
      });
    },
    async streaming() {
      await workflow('streamed-replies', async () => {
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
        await converseStream(HAIKU, Q1);
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        await converseStream(HAIKU, Q2, { inferenceConfig: { maxTokens: 16 } });
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const toolConfig = { tools: [{ toolSpec: { name: ORDER_TOOL.name, description: ORDER_TOOL.description,
          inputSchema: { json: ORDER_TOOL.schema } } }] };
        await plan({ ...TOOL_CALL, input: 480, output: 19 }, { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const messages = [{ role: 'user', content: [{ text: Q1 }] }];
        const first = await client.send(new br.ConverseCommand({ modelId: HAIKU, system: [{ text: SYSTEM }], messages, toolConfig }));
        const use = first.output.message.content.find((b) => b.toolUse).toolUse;
        const out = await tool('get_order_status', async () => lookup(use.input.order_id), { 'app.tool.call_id': use.toolUseId });
        messages.push(first.output.message, { role: 'user', content: [{ toolResult: { toolUseId: use.toolUseId,
          content: [{ json: out }] } }] });
        await client.send(new br.ConverseCommand({ modelId: HAIKU, system: [{ text: SYSTEM }], messages, toolConfig }));
      });
    },
    async errors() {
      await workflow('flaky-upstream', async () => {
        try { await plan({ status: 429 }); await converse(HAIKU, Q1); } catch (e) { /* tries again later */ }
        await plan({ status: 500 }); await converse(HAIKU, Q1);
      });
    },
    async duplicate() {
      await workflow('dup', async () => {
        for (let k = 0; k < 2; k++) {
          await plan({ input: 420, output: 12, text: 'In transit.' });
          await converse(HAIKU, Q1, { inferenceConfig: { temperature: 0, maxTokens: 100 } });
        }
      });
    },
  };
} else if (source === 'openlit-js-cohere') {
  // dist/instrumentation/cohere/index.js _patch wraps CohereClient.prototype embed / chat / chatStream (the v1 API)
  const cohere = require('cohere-ai');
  instrument({ cohere });
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
        await drain(await client.chatStream({ model: MODEL, preamble: SYSTEM, message: Q1 }));
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
        await drain(await client.chatStream({ model: MODEL, preamble: SYSTEM, message: Q2, maxTokens: 16 }));
      });
    },
    async tool_use() {
      await workflow('order-agent', async () => {
        const tools = [{ name: ORDER_TOOL.name, description: ORDER_TOOL.description,
          parameterDefinitions: { order_id: { type: 'str', description: 'the order id', required: true } } }];
        await plan({ ...TOOL_CALL, input: 480, output: 19 }, { input: 530, output: 15, text: 'Order A-1001 is in transit.' });
        const first = await chat(Q1, { tools });
        const call = first.toolCalls[0];
        const out = await tool('get_order_status', async () => lookup(call.parameters.order_id));
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

await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath, settle: 50 });
if (refused.length) throw new Error(`loopback guard refused ${refused.join(', ')}`);
process.exit(0);
