"""Configuration: YAML in the Collector's shape, checked at load."""

from otel_tokenwatch.config.build import ByteSize, ConfigError, Duration, build, require
from otel_tokenwatch.config.service import Component, Config, PipelineConfig, from_mapping, load

__all__ = ["ByteSize", "Component", "Config", "ConfigError", "Duration", "PipelineConfig", "build",
           "from_mapping", "load", "require"]
