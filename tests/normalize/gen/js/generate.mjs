// Real OpenLLMetry JS / OpenInference JS spans against the fake OpenAI / Anthropic server on 127.0.0.1
// (../vercel_ai/fake_server.py; see run.sh, README.md here).
//
//   node generate.mjs <source> <fake-server-port> <out.jsonl> <truth.json>
//
// <source>: openllmetry-js-openai (@traceloop/instrumentation-openai over openai), openllmetry-js-anthropic
// (@traceloop/instrumentation-anthropic over @anthropic-ai/sdk), openinference-js-openai
// (@arizeai/openinference-instrumentation-openai over openai), openinference-js-anthropic
// (@arizeai/openinference-instrumentation-anthropic over @anthropic-ai/sdk), openinference-langchain-js
// (@arizeai/openinference-instrumentation-langchain over @langchain/openai and @langchain/anthropic). Run from a directory whose node_modules holds
// this folder's package-lock.json (run.sh does this). Every span below `workflow` is made by the
// instrumentation; the generator only makes the root `workflow` span (scope fixgen.app), as the shared
// fixtures do. The SDKs are ESM-imported, so each instrumentation is applied with its manuallyInstrument().
import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { planner, workflowOf, record } from './capture.mjs';

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

const { default: OpenAI } = await import('openai');
const { default: Anthropic } = await import('@anthropic-ai/sdk');
if (source === 'openllmetry-js-openai') {
  const { OpenAIInstrumentation } = await import('@traceloop/instrumentation-openai');
  const inst = new OpenAIInstrumentation({ traceContent: true });
  inst.setTracerProvider(provider);
  inst.manuallyInstrument(OpenAI);
} else if (source === 'openllmetry-js-anthropic') {
  const { AnthropicInstrumentation } = await import('@traceloop/instrumentation-anthropic');
  const inst = new AnthropicInstrumentation({ traceContent: true });
  inst.setTracerProvider(provider);
  inst.manuallyInstrument(await import('@anthropic-ai/sdk'));
} else if (source === 'openinference-js-openai') {
  const { OpenAIInstrumentation } = await import('@arizeai/openinference-instrumentation-openai');
  const inst = new OpenAIInstrumentation({ tracerProvider: provider });
  inst.manuallyInstrument(await import('openai'));
} else if (source === 'openinference-js-anthropic') {
  const { AnthropicInstrumentation } = await import('@arizeai/openinference-instrumentation-anthropic');
  const inst = new AnthropicInstrumentation({ tracerProvider: provider });
  inst.manuallyInstrument(await import('@anthropic-ai/sdk'));
} else if (source === 'openinference-langchain-js') {
  const { LangChainInstrumentation } = await import('@arizeai/openinference-instrumentation-langchain');
  const inst = new LangChainInstrumentation({ tracerProvider: provider });
  inst.manuallyInstrument(await import('@langchain/core/callbacks/manager'));
} else {
  throw new Error(`unknown source ${source}`);
}
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-fake', maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: base, apiKey: 'sk-ant-fake', maxRetries: 0 });

// the fake server's scripted answers (fake_server.py docstring): registered by POST /_plan, named by headers
// (plan's answer: the SDKs' per-call request options)
const { state, plan, withPlan } = planner(base, source);
const workflow = workflowOf(trace.getTracer('fixgen.app'), state, { giveUpReason: true });

const SYSTEM = 'You are a support assistant for ACME. Answer briefly and politely. '.repeat(30);
const Q1 = 'Where is order A-1001?';
const Q2 = 'And order A-1002?';
const lookup = (orderId) => JSON.stringify({ order_id: orderId, status: 'in transit' });
const TOOL_CALL = { finish: 'tool', tool: { name: 'get_order_status', args: { order_id: 'A-1001' } } };

// --- OpenAI (Chat Completions; one Responses call in healthy) ------------------------------------------
const oaTools = [{ type: 'function', function: { name: 'get_order_status', description: 'Look up an order',
  parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }];
const chat = (model, user, extra = {}) => ({ model, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }], ...extra });
async function drain(stream) { for await (const _ of stream) { /* the app reads every chunk */ } }

const openaiScenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { max_tokens: 200 }),
        await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }));
      await openai.responses.create({ model: 'gpt-4o-mini', instructions: SYSTEM, input: Q2, max_output_tokens: 200 },
        await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }));
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await openai.chat.completions.create(chat('gpt-4o', Q1), await plan({ input: 1300, cache_read: 0, output: 30, text: 'In transit.' }));
      await openai.chat.completions.create(chat('gpt-4o', Q2), await plan({ input: 1310, cache_read: 1152, output: 28, text: 'Delivered.' }));
      await openai.chat.completions.create(chat('o4-mini', 'And order A-1003?'),
        await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' }));
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      await drain(await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { stream: true, stream_options: { include_usage: true } }),
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' })));
      await drain(await openai.chat.completions.create(chat('gpt-4o-mini', Q2, { stream: true, stream_options: { include_usage: true }, max_tokens: 16 }),
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' })));
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      const messages = [{ role: 'system', content: SYSTEM }, { role: 'user', content: Q1 }];
      const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: oaTools },
        await plan({ ...TOOL_CALL, input: 480, output: 19 }));
      const call = first.choices[0].message.tool_calls[0];
      messages.push(first.choices[0].message,
        { role: 'tool', tool_call_id: call.id, content: lookup(JSON.parse(call.function.arguments).order_id) });
      await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: oaTools },
        await plan({ input: 530, output: 15, text: 'Order A-1001 is in transit.' }));
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try {
        await openai.chat.completions.create(chat('gpt-4o-mini', Q1), await plan({ status: 429, retry_after: '1' }));
      } catch (e) { /* the app tries once more, later */ }
      await openai.chat.completions.create(chat('gpt-4o-mini', Q1), await plan({ status: 500 }));
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await openai.chat.completions.create(chat('gpt-4o-mini', Q1, { temperature: 0, max_tokens: 100 }),
          await plan({ input: 420, output: 12, text: 'In transit.' }));
      }
    });
  },
};

// --- Anthropic Messages -------------------------------------------------------------------------------
const anTools = [{ name: 'get_order_status', description: 'Look up an order',
  input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } }];
const msg = (model, user, extra = {}) => ({ model, max_tokens: 256, system: SYSTEM, messages: [{ role: 'user', content: user }], ...extra });
const cachedSystem = [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }];

const anthropicScenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await anthropic.messages.create(msg('claude-haiku-4-5', Q1), await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' }));
      await anthropic.messages.create(msg('claude-haiku-4-5', Q2), await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' }));
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await anthropic.messages.create(msg('claude-sonnet-4-5', Q1, { system: cachedSystem }),
        await plan({ input: 1300, cache_read: 0, cache_write: 1200, output: 30, text: 'In transit.' }));
      await anthropic.messages.create(msg('claude-sonnet-4-5', Q2, { system: cachedSystem }),
        await plan({ input: 1310, cache_read: 1200, cache_write: 0, output: 28, text: 'Delivered.' }));
      // more new input than cached: Anthropic's input_tokens (cache excluded) is then above the cache read
      await anthropic.messages.create(msg('claude-sonnet-4-5', `And order A-1003? ${'My earlier messages follow. '.repeat(200)}`,
        { system: cachedSystem }), await plan({ input: 3100, cache_read: 1200, cache_write: 0, output: 26, text: 'Awaiting pickup.' }));
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      await drain(await anthropic.messages.create(msg('claude-haiku-4-5', Q1, { stream: true }),
        await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' })));
      await drain(await anthropic.messages.create(msg('claude-haiku-4-5', Q2, { stream: true, max_tokens: 16 }),
        await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' })));
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      const messages = [{ role: 'user', content: Q1 }];
      const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, system: SYSTEM, messages, tools: anTools },
        await plan({ ...TOOL_CALL, input: 480, output: 40 }));
      const use = first.content.find((b) => b.type === 'tool_use');
      messages.push({ role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: lookup(use.input.order_id) }] });
      await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, system: SYSTEM, messages, tools: anTools },
        await plan({ input: 560, output: 15, text: 'Order A-1001 is in transit.' }));
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try {
        await anthropic.messages.create(msg('claude-haiku-4-5', Q1), await plan({ status: 429, retry_after: '1' }));
      } catch (e) { /* the app tries once more, later */ }
      await anthropic.messages.create(msg('claude-haiku-4-5', Q1), await plan({ status: 500 }));
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await anthropic.messages.create(msg('claude-haiku-4-5', Q1, { temperature: 0, max_tokens: 100 }),
          await plan({ input: 420, output: 12, text: 'In transit.' }));
      }
    });
  },
};

// --- LangChain.js (ChatOpenAI, ChatAnthropic) ----------------------------------------------------------
// LangChain sends no per-call headers: the plan's headers go on every request through the clients' fetch
const lc = {};
if (source === 'openinference-langchain-js') {
  const { ChatOpenAI } = await import('@langchain/openai');
  const { ChatAnthropic } = await import('@langchain/anthropic');
  Object.assign(lc, await import('@langchain/core/messages'), await import('@langchain/core/tools'));
  lc.openai = (model, extra = {}) => new ChatOpenAI({ model, apiKey: 'sk-fake', maxRetries: 0,
    configuration: { baseURL: `${base}/v1`, fetch: withPlan }, ...extra });
  lc.anthropic = (model, extra = {}) => new ChatAnthropic({ model, apiKey: 'sk-ant-fake', maxRetries: 0, maxTokens: 256,
    clientOptions: { baseURL: base, fetch: withPlan }, ...extra });
}
const lcAsk = (user, system = SYSTEM) => [new lc.SystemMessage(system), new lc.HumanMessage(user)];
async function lcDrain(stream) { for await (const _ of await stream) { /* the app reads every chunk */ } }

const langchainScenarios = {
  async healthy() {
    await workflow('support-chat', async () => {
      await plan({ input: 420, output: 24, text: 'Order A-1001 is in transit.' });
      await lc.openai('gpt-4o-mini', { maxTokens: 200 }).invoke(lcAsk(Q1));
      await plan({ input: 430, output: 22, text: 'Order A-1002 was delivered.' });
      await lc.anthropic('claude-haiku-4-5').invoke(lcAsk(Q2));
    });
  },
  async cached() {
    await workflow('cached-support', async () => {
      await plan({ input: 1310, cache_read: 1152, output: 28, reasoning: 0, text: 'Delivered.' });
      await lc.openai('gpt-4o').invoke(lcAsk(Q1));
      await plan({ input: 1320, cache_read: 1280, output: 96, reasoning: 64, text: 'Awaiting pickup.' });
      await lc.openai('o4-mini').invoke(lcAsk(Q2));
      const cachedSys = new lc.SystemMessage({ content: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }] });
      await plan({ input: 1300, cache_read: 0, cache_write: 1200, output: 30, text: 'In transit.' });
      await lc.anthropic('claude-sonnet-4-5').invoke([cachedSys, new lc.HumanMessage('And order A-1003?')]);
      await plan({ input: 3100, cache_read: 1200, cache_write: 0, output: 26, text: 'Awaiting pickup.' });
      await lc.anthropic('claude-sonnet-4-5').invoke([cachedSys,
        new lc.HumanMessage(`And order A-1004? ${'My earlier messages follow. '.repeat(200)}`)]);
    });
  },
  async streaming() {
    await workflow('streamed-replies', async () => {
      await plan({ input: 420, output: 18, text: 'Order A-1001 is in transit.' });
      await lcDrain(lc.openai('gpt-4o-mini', { streamUsage: true }).stream(lcAsk(Q1)));
      await plan({ input: 425, output: 16, finish: 'length', text: 'Order A-1002 left our warehouse on Monday and' });
      await lcDrain(lc.anthropic('claude-haiku-4-5', { maxTokens: 16 }).stream(lcAsk(Q2)));
    });
  },
  async tool_use() {
    await workflow('order-agent', async () => {
      const getOrderStatus = lc.tool(async ({ order_id }) => lookup(order_id), { name: 'get_order_status',
        description: 'Look up an order', schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } });
      const model = lc.openai('gpt-4o-mini').bindTools([getOrderStatus]);
      const messages = lcAsk(Q1);
      await plan({ ...TOOL_CALL, input: 480, output: 19 });
      const first = await model.invoke(messages);
      messages.push(first);
      for (const call of first.tool_calls) messages.push(await getOrderStatus.invoke(call));
      await plan({ input: 530, output: 15, text: 'Order A-1001 is in transit.' });
      await model.invoke(messages);
    });
  },
  async errors() {
    await workflow('flaky-upstream', async () => {
      try {
        await plan({ status: 429, retry_after: '1' });
        await lc.openai('gpt-4o-mini').invoke(lcAsk(Q1));
      } catch (e) { /* the app moves on to the other provider */ }
      await plan({ status: 500 });
      await lc.anthropic('claude-haiku-4-5').invoke(lcAsk(Q1));
    });
  },
  async duplicate() {
    await workflow('dup', async () => {
      for (let k = 0; k < 2; k++) {
        await plan({ input: 420, output: 12, text: 'In transit.' });
        await lc.openai('gpt-4o-mini', { temperature: 0, maxTokens: 100 }).invoke(lcAsk(Q1));
      }
    });
  },
};

const scenarios = source === 'openinference-langchain-js' ? langchainScenarios
  : source.endsWith('-anthropic') ? anthropicScenarios : openaiScenarios;
await record({ scenarios, state, exporter, provider, source, base, outPath, truthPath, settle: 50 });
