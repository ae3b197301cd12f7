"""Provider names: every alias to its semantic-convention value, and to genai-prices' id."""

from __future__ import annotations

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
}
#: frameworks and servers that instrumentations put where a provider belongs
NOT_PROVIDERS = frozenset({"crewai", "langchain", "hosted_vllm", "llama_index", "litellm", "pydantic_ai", "agno"})

#: semconv provider -> genai-prices provider id
PRICE_PROVIDER = {
    "openai": "openai", "azure.ai.openai": "azure", "anthropic": "anthropic", "gcp.gemini": "google",
    "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "aws.bedrock": "aws", "mistral_ai": "mistral",
    "x_ai": "x-ai", "groq": "groq", "deepseek": "deepseek", "cohere": "cohere", "perplexity": "perplexity",
}


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
    head = low.split(".", 1)[0]  # Vercel: "openai.chat" style
    if head in ALIASES:
        return ALIASES[head]
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
