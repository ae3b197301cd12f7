// What the Node.js capture generators share (the counterpart of capture.py for generate.mjs; run_node, js/run.sh
// and vercel_ai/run.sh copy it beside generate.mjs): the fake server's plan protocol (../vercel_ai/fake_server.py
// docstring), the root `workflow` span (scope fixgen.app) and the shared fixtures' line format (OTLP/JSON, hex ids,
// int64 as strings, machine paths in stack traces as /app/), one line per scenario, and the served truth.
import { SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import fs from 'node:fs';
import net from 'node:net';

// loopback only: a connection anywhere else (an exporter, a pricing download, a usage ping) is refused, before any
// byte is sent, and listed in the array returned, which the generator checks at the end (capture.py's guard for Node)
export function guardLoopback() {
  const refused = [];
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(...args) {
    // net.connect (undici's fetch, http.Agent) hands connect its normalized arguments: [options, callback]
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const o = typeof first === 'object' && first !== null ? first : { port: first, host: args[1] };
    const host = o.host ?? 'localhost';
    if (!o.path && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
      refused.push(`${host}:${o.port}`);
      const err = new Error(`loopback guard: refused ${host}:${o.port}`);
      console.error(err.message);
      process.nextTick(() => this.destroy(err));  // the caller's error path, no byte sent
      return this;
    }
    return connect.apply(this, args);
  };
  return refused;
}

// scripted answers, registered by POST /_plan and named by headers the client's fetch (withPlan) adds, or a
// client's per-call request options (plan's answer, { headers })
export function planner(base, source) {
  const state = { scenario: '', seq: 0, headers: {} };
  return {
    state,
    async plan(...steps) {
      const id = `${source}-${++state.seq}`;
      await fetch(`${base}/_plan`, { method: 'POST', body: JSON.stringify({ id, steps }) });
      state.headers = { 'x-fixgen-scenario': state.scenario, 'x-fixgen-plan': id };
      return { headers: state.headers };
    },
    withPlan(url, init = {}) {
      const headers = new Headers(init.headers);
      for (const [k, v] of Object.entries(state.headers)) headers.set(k, v);
      return fetch(url, { ...init, headers });
    },
  };
}

// giveUpReason: the error's name as app.give_up_reason too (js, js2, js3, vercel_ai); extra: more root attributes
export function workflowOf(app, state, { giveUpReason = false } = {}) {
  return (name, fn, extra = {}) => app.startActiveSpan('workflow',
    { attributes: { 'app.workflow': name, 'app.scenario': state.scenario, ...extra } },
    async (span) => {
      try { await fn(span); } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(e?.message ?? e) });
        span.setAttribute('app.outcome', 'gave_up');
        if (giveUpReason) span.setAttribute('app.give_up_reason', String(e?.name ?? 'error'));
      } finally { span.end(); }
    });
}

export function int64AsString(v, key) {
  if (Array.isArray(v)) return v.map((x) => int64AsString(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, int64AsString(x, k)]));
  if (typeof v === 'number' && (key === 'intValue' || (key ?? '').endsWith('UnixNano'))) return String(v);
  return v;
}

// every scenario in turn, one line each, then the fake server's truth. After each scenario: flush (the library's
// own processor / exporter), settle ms of waiting, then the provider's (none when the library owns it) forceFlush.
// appPaths false: the work dir left as it is in stack traces (vercel_ai's fixtures, file:///app/v5/...)
export async function record({ scenarios, state, exporter, provider, source, base, outPath, truthPath,
  flush, settle = 0, appPaths = true }) {
  const here = process.cwd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lines = [];
  for (const [name, fn] of Object.entries(scenarios)) {
    state.scenario = name;
    exporter.reset();
    await fn();
    if (flush) await flush();
    if (settle) await new Promise((r) => setTimeout(r, settle));
    await provider?.forceFlush();
    const spans = exporter.getFinishedSpans();
    const otlp = int64AsString(JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))));
    const line = JSON.stringify({ scenario: name, source, otlp });
    lines.push(appPaths ? line.replace(new RegExp(`(file://)?${here}/?`, 'g'), '/app/') : line);
    console.error(`${source} ${name}: ${spans.length} spans`);
  }
  fs.writeFileSync(outPath, lines.join('\n') + '\n');
  fs.writeFileSync(truthPath, JSON.stringify(await (await fetch(`${base}/_truth`)).json(), null, 1));
  await provider?.shutdown();
}
