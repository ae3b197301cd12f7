"""An instrumented application, run under `opentelemetry-instrument` by the tests.

It asks the same question twice (a duplicate) and a different one once, in one workflow trace,
and reports a successful outcome for a second trace from code.
"""

import os

from openai import OpenAI
from opentelemetry import trace

import otel_tokenwatch

client = OpenAI(base_url=os.environ["FAKE_LLM_URL"], api_key="test", max_retries=0)
tracer = trace.get_tracer("app")

with tracer.start_as_current_span("workflow", attributes={"gen_ai.workflow.name": "faq"}):
    for q in ("What is the refund window?", "What is the refund window?", "Do you ship abroad?"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])

with tracer.start_as_current_span("workflow", attributes={"gen_ai.workflow.name": "faq"}):
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello?"}])
    otel_tokenwatch.report_outcome("success", kpis={"cycle_time_s": 3})
