"""Provider names: every alias to its semantic-convention value, and to genai-prices' id."""

from __future__ import annotations

from functools import lru_cache

ALIASES = {
    "openai": "openai", "OpenAI": "openai", "openai.chat": "openai", "openai.responses": "openai",
    "azure": "azure.ai.openai", "Azure": "azure.ai.openai", "az.ai.openai": "azure.ai.openai",
    "azure_openai": "azure.ai.openai", "az.ai.inference": "azure.ai.inference",
    "anthropic": "anthropic", "Anthropic": "anthropic", "anthropic.messages": "anthropic",
    "vertexai": "gcp.vertex_ai", "vertex_ai": "gcp.vertex_ai", "gemini": "gcp.gemini", "google": "gcp.gen_ai",
    "google.generative-ai": "gcp.gemini", "gcp.gemini": "gcp.gemini", "gcp.vertex_ai": "gcp.vertex_ai",
    "gcp.gen_ai": "gcp.gen_ai", "aws": "aws.bedrock", "bedrock": "aws.bedrock", "aws.bedrock": "aws.bedrock",
    "amazon-bedrock": "aws.bedrock", "mistralai": "mistral_ai", "mistral": "mistral_ai", "mistral_ai": "mistral_ai",
    "xai": "x_ai", "x_ai": "x_ai", "groq": "groq", "deepseek": "deepseek", "cohere": "cohere",
    "perplexity": "perplexity", "ibm.watsonx.ai": "ibm.watsonx.ai", "ollama": "ollama",
    # Spring AI's AiProvider values (spring-ai-model .../observation/conventions/AiProvider.java)
    "azure-openai": "azure.ai.openai", "bedrock_converse": "aws.bedrock",
    # LiteLLM's custom_llm_provider, which its v1 logger writes to gen_ai.system
    "azure_ai": "azure.ai.inference", "vertex_ai_beta": "gcp.vertex_ai", "text-completion-openai": "openai",
    "watsonx": "ibm.watsonx.ai", "ollama_chat": "ollama", "cohere_chat": "cohere",
    # Vercel AI SDK ai.model.provider: "google.vertex.chat", "vertex.anthropic.messages" (head before the dot)
    "google.vertex": "gcp.vertex_ai", "vertex": "gcp.vertex_ai",
    # pydantic-ai's GoogleModel system names (Gemini API / Vertex AI); since its GoogleCloudProvider
    # (pydantic-ai-slim 2.68 providers/google_cloud.py name ``google-cloud``) the Vertex AI one is "google-cloud",
    # while GoogleProvider's "google" stays the generic gcp.gen_ai (it keeps that name over a Vertex client too)
    "google-gla": "gcp.gemini", "google-vertex": "gcp.vertex_ai", "google-cloud": "gcp.vertex_ai",
    # OpenLIT's google-genai instrumentation scope (openlit.instrumentation.google_ai_studio), the provider of
    # its failed calls' spans (dialects._openlit_failure); its successful ones say gen_ai.provider.name "gemini"
    "google_ai_studio": "gcp.gemini",
    # Together AI, genai-prices' id "together": OpenLLMetry's gen_ai.system "TogetherAI"
    # (opentelemetry-instrumentation-together 0.62.4 __init__.py _wrap), OpenLIT's gen_ai.provider.name "together"
    # (SemanticConvention.GEN_AI_SYSTEM_TOGETHER), LiteLLM's custom_llm_provider "together_ai"
    "TogetherAI": "together", "togetherai": "together", "together_ai": "together",
    # Azure AI Foundry's agent service, whose runs use the project's Azure OpenAI deployments: azure-ai-agents'
    # and azure-ai-projects' tracing write gen_ai.system "az.ai.agents" (telemetry/_utils.py AZ_AI_AGENT_SYSTEM;
    # AZURE_AI_AGENTS "azure.ai.agents"), the JS SDKs gen_ai.provider.name "microsoft.foundry" (AGENTS_PROVIDER)
    "az.ai.agents": "azure.ai.openai", "azure.ai.agents": "azure.ai.openai", "microsoft.foundry": "azure.ai.openai",
}
#: frameworks and servers that instrumentations put where a provider belongs: Strands writes gen_ai.system /
#: gen_ai.provider.name = "strands-agents" (src/strands/telemetry/tracer.py), Google ADK gen_ai.system =
#: "gcp.vertex.agent" on every call_llm span whatever the model's host (src/google/adk/telemetry/tracing.py),
#: Spring AI "spring_ai" on its framework spans
NOT_PROVIDERS = frozenset({"crewai", "langchain", "hosted_vllm", "llama_index", "litellm", "pydantic_ai", "agno",
                           "strands-agents", "gcp.vertex.agent", "spring_ai"})

#: semconv provider -> genai-prices provider id
PRICE_PROVIDER = {
    "openai": "openai", "azure.ai.openai": "azure", "anthropic": "anthropic", "gcp.gemini": "google",
    "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "aws.bedrock": "aws", "mistral_ai": "mistral",
    "x_ai": "x-ai", "groq": "groq", "deepseek": "deepseek", "cohere": "cohere", "perplexity": "perplexity",
}


#: genai-prices provider id -> semconv provider (PRICE_PROVIDER's other way; Google's by its host below)
_FROM_PRICE_ID = {"azure": "azure.ai.openai", "aws": "aws.bedrock", "mistral": "mistral_ai", "x-ai": "x_ai"}


@lru_cache(maxsize=1024)
def provider_at_host(host: str) -> str | None:
    """The provider an OpenAI-compatible host belongs to, when it is not OpenAI's own, else None.

    The semantic conventions (gen_ai.provider.name): "Multiple systems, including Azure OpenAI and
    Gemini, are accessible by OpenAI client libraries. In such cases, the gen_ai.provider.name is set
    to openai based on the instrumentation's best knowledge ... The server.address attribute may help
    identify the actual system in use." genai-prices matches each provider's API URL (its
    ``api_pattern``); DeepSeek's, Azure's, OpenRouter's and Gemini's OpenAI-compatible endpoints are
    priced there, not as OpenAI. A gateway or a local server matches nothing and stays openai."""
    try:
        from genai_prices import data_snapshot

        pid = data_snapshot.get_snapshot().find_provider(None, None, f"https://{host}").id
    except Exception:  # noqa: BLE001 - no match (LookupError), or a genai-prices without the call
        return None
    if pid.startswith("openai"):
        return None
    if pid == "google":
        return "gcp.vertex_ai" if "aiplatform" in host else "gcp.gemini"
    return _FROM_PRICE_ID.get(pid) or ALIASES.get(pid, pid)


def normalize_provider(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    if raw in ALIASES:
        return ALIASES[raw]
    low = raw.lower()
    if low in NOT_PROVIDERS:
        return None
    if low in ALIASES:
        return ALIASES[low]
    parts = low.split(".", 2)  # Vercel: "openai.chat" style
    if len(parts) > 2 and f"{parts[0]}.{parts[1]}" in ALIASES:  # "google.vertex.chat" is not Google AI Studio
        return ALIASES[f"{parts[0]}.{parts[1]}"]
    if parts[0] in ALIASES:
        return ALIASES[parts[0]]
    return low


def provider_from_model(model: str | None) -> str | None:
    """Only for pricing when no span names the provider; never written back."""
    if not model:
        return None
    m = model.lower()
    if m.startswith(("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding", "davinci", "babbage")):
        return "openai"
    if m.startswith("claude"):
        return "anthropic"
    if m.startswith("gemini"):
        return "gcp.gemini"
    if m.startswith(("mistral", "codestral", "magistral")):
        return "mistral_ai"
    if m.startswith("grok"):
        return "x_ai"
    return None
