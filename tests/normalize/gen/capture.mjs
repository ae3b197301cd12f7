// What the Node.js capture generators share (the counterpart of capture.py for generate.mjs; run_node copies it
// beside generate.mjs): the fake server's plan protocol (../vercel_ai/fake_server.py docstring), the root
// `workflow` span (scope fixgen.app) and the shared fixtures' line format (OTLP/JSON, hex ids, int64 as strings,
// machine paths in stack traces as /app/), one line per scenario, and the served truth.
import { SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import fs from 'node:fs';

// scripted answers, registered by POST /_plan and named by headers the client's fetch (withPlan) adds
export function planner(base, source) {
  const state = { scenario: '', seq: 0, headers: {} };
  return {
    state,
    async plan(...steps) {
      const id = `${source}-${++state.seq}`;
      await fetch(`${base}/_plan`, { method: 'POST', body: JSON.stringify({ id, steps }) });
      state.headers = { 'x-fixgen-scenario': state.scenario, 'x-fixgen-plan': id };
    },
    withPlan(url, init = {}) {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(state.headers)) headers.set(k, v);
      return fetch(url, { ...init, headers });
    },
  };
}

export function workflowOf(app, state) {
  return (name, fn) => app.startActiveSpan('workflow', { attributes: { 'app.workflow': name, 'app.scenario': state.scenario } },
    async (span) => {
      try { await fn(span); } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(e?.message ?? e) });
        span.setAttribute('app.outcome', 'gave_up');
      } finally { span.end(); }
    });
}

export function int64AsString(v, key) {
  if (Array.isArray(v)) return v.map((x) => int64AsString(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, int64AsString(x, k)]));
  if (typeof v === 'number' && (key === 'intValue' || (key ?? '').endsWith('UnixNano'))) return String(v);
  return v;
}

// every scenario in turn, one line each, then the fake server's truth
export async function record({ scenarios, state, exporter, provider, source, base, outPath, truthPath }) {
  const here = process.cwd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lines = [];
  for (const [name, fn] of Object.entries(scenarios)) {
    state.scenario = name;
    exporter.reset();
    await fn();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const otlp = int64AsString(JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))));
    lines.push(JSON.stringify({ scenario: name, source, otlp }).replace(new RegExp(`(file://)?${here}/?`, 'g'), '/app/'));
    console.error(`${source} ${name}: ${spans.length} spans`);
  }
  fs.writeFileSync(outPath, lines.join('\n') + '\n');
  fs.writeFileSync(truthPath, JSON.stringify(await (await fetch(`${base}/_truth`)).json(), null, 1));
  await provider.shutdown();
}
