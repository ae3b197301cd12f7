"""The coding-agent tests' shared helpers assert too: let pytest explain their failures as in a test."""

import pytest

pytest.register_assert_rewrite("tests.agents.captured")
