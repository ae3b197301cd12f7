"""What is compared across trees: inflation and conversation windows, on content and on shape,
and a fingerprint key that replicas and restarts can share."""

from __future__ import annotations

import subprocess
import sys

import pytest

from otel_tokenwatch.pipeline.score import fingerprint as fpmod
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.state import MemoryStore
from tests.score.helpers import Engine, calls, chat, reasons, root_score


def tid(i: int) -> bytes:
    return i.to_bytes(16, "big")


def test_inflation_on_shape_when_content_is_not_captured() -> None:
    """Span ids differ in every trace, so the cross-tree fingerprint must not depend on them."""
    eng = Engine()
    who = {"enduser.id": "svc-bot", "gen_ai.request.max_tokens": 400, "gen_ai.request.temperature": 0.7}
    scores = [root_score(eng.run(calls(chat(None, inp=2311, out=380, **who), trace=tid(i + 1)))) for i in range(6)]
    assert scores == [0.0] * 4 + [1.0, 1.0]
    t = eng.run(calls(chat(None, inp=2311, out=380, **who), trace=tid(99)))
    assert set(reasons(t).values()) == {"suspected_inflation"}


def test_shape_look_alikes_of_one_principal_are_not_inflation() -> None:
    """The same service asking different questions: sizes differ, nothing is flagged."""
    eng = Engine()
    who = {"enduser.id": "svc-bot", "gen_ai.request.max_tokens": 400}
    assert all(root_score(eng.run(calls(chat(None, inp=2000 + 37 * i, out=380, **who), trace=tid(i + 1)))) == 0.0
               for i in range(8))


def test_inflation_is_per_principal() -> None:
    eng = Engine()
    for i in range(8):  # 8 identical trees, but never 5 of one principal
        t = eng.run(calls(chat("write me a poem", **{"enduser.id": f"u{i % 2}{i // 4}"}), trace=tid(i + 1)))
        assert root_score(t) == 0.0, i


def test_conversation_duplicate_across_trees_on_shape_but_not_a_growing_conversation() -> None:
    eng = Engine()
    conv = {"gen_ai.conversation.id": "c-42", "gen_ai.request.max_tokens": 300}
    assert root_score(eng.run(calls(chat(None, inp=5000, **conv), trace=tid(1)))) == 0.0
    assert root_score(eng.run(calls(chat(None, inp=5600, **conv), trace=tid(2)))) == 0.0  # the next turn
    t = eng.run(calls(chat(None, inp=5600, **conv), trace=tid(3)))  # the same turn sent again
    assert reasons(t) == {"chat 0": "duplicate"}


def test_a_shared_secret_gives_the_same_fingerprints_in_another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_TEST_FP_KEY", "s3cret")
    key = fpmod.key_from_env("TW_TEST_FP_KEY")
    assert key != fpmod._KEY and key == fpmod.key_from_env("TW_TEST_FP_KEY")
    assert fpmod.key_from_env("TW_TEST_FP_UNSET") == fpmod._KEY
    code = ("from otel_tokenwatch.pipeline.score.fingerprint import key_from_env;"
            "print(key_from_env('TW_TEST_FP_KEY').hex())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"TW_TEST_FP_KEY": "s3cret", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert other == key.hex()
    code_random = code.replace("'TW_TEST_FP_KEY'", "'TW_TEST_FP_UNSET'")
    other_random = subprocess.run([sys.executable, "-c", code_random], capture_output=True, text=True,
                                  check=True).stdout.strip()
    assert other_random != fpmod._KEY.hex()  # without the secret each process has its own key


def test_inflation_window_survives_a_restart_with_a_shared_secret(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor

    monkeypatch.setenv("TOKENWATCH_FINGERPRINT_KEY", "shared")
    path = str(tmp_path / "state.json")
    norm = NormalizeProcessor(NormalizeConfig())

    def run(stage: ScoreProcessor, i: int) -> float:
        t = calls(chat("write me a poem", **{"enduser.id": "u1"}), trace=tid(i))
        norm.process(t)
        stage.process(t)
        return root_score(t)

    state = MemoryStore(snapshot_path=path)
    assert [run(ScoreProcessor(ScoreConfig(), state), i) for i in range(1, 4)] == [0.0] * 3
    state.close()
    # a new process: the module's random key is different, the configured secret is not
    monkeypatch.setattr(fpmod, "_KEY", b"\x01" * 32)
    restored = ScoreProcessor(ScoreConfig(), MemoryStore(snapshot_path=path))
    assert [run(restored, i) for i in range(4, 6)] == [0.0, 1.0]


@pytest.mark.parametrize("min_trees", [2, 5, 9])
def test_inflation_is_flagged_at_the_configured_minimum_and_not_before(min_trees: int) -> None:
    eng = Engine(inflation_min_trees=min_trees)
    scores = [root_score(eng.run(calls(chat("daily summary please", **{"enduser.id": "u7"}), trace=tid(i + 1))))
              for i in range(min_trees + 1)]
    assert scores == [0.0] * (min_trees - 1) + [1.0, 1.0]


def test_inflation_needs_no_outcome() -> None:
    eng = Engine()
    for i in range(7):  # the same prompt, but each run reported a successful outcome: work, not inflation
        t = eng.run(calls(chat("daily summary please", **{"enduser.id": "u7"}), trace=tid(i + 1)), outcome="success")
        assert root_score(t) == 0.0, i
