"""Coding-agent telemetry (Claude Code, Gemini CLI, Codex) read as sessions and scored like span trees."""
