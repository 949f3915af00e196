"""The one classifier of what an owner saw (the dashboard's and the dialogue evaluation's)."""

from __future__ import annotations

import pytest

from huiqitong.outcome import outcome_of

QUOTE = {
    "text": "最高不超过200万元\n答复函原文（股改资助）：“…”",
    "sources": [{"policy_id": "zjtx-shareholding-reform"}],
}


@pytest.mark.parametrize(
    ("replies", "outcome"),
    [
        ([QUOTE], "answer"),
        ([{"text": "答复函没有写明具体数额。\n供参考，…"}], "not_in_letter"),
        # an answer to what the letter states, then what it does not: not an answer to the whole question
        (
            [QUOTE, {"text": "至于申请材料，答复函没有写明，具体请以市工业和信息化局的通知为准。"}],
            "not_in_letter",
        ),
        # a quote that itself says 没有 further on is still an answer
        (
            [
                {
                    "text": "答复函原文（X）：“企业开办…”，至于其他，没有特别说明",
                    "sources": [{"policy_id": "x"}],
                }
            ],
            "answer",
        ),
    ],
)
def test_outcome_of_replies(replies: list[dict[str, object]], outcome: str) -> None:
    assert outcome_of(replies) == outcome
