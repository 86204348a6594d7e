"""TRL's GRPOTrainer takes `trl_reward` as a reward function and trains a step with its rewards.

The model is a one-layer Llama made here, with a word-level vocabulary of a few tokens, one of
which is a whole boxed answer: its random completions then hold a right answer, a wrong one or
none, so the rewards the trainer logs are checked against what the completions say. Skipped
without the `rl` extra, unless FACTORY_REQUIRE_RL=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("FACTORY_REQUIRE_RL") != "1":
    pytest.importorskip("trl", reason="the `rl` extra (TRL) is not installed")
import transformers
import trl
from datasets import Dataset
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from verified_factory.rewards import trl_reward

pytestmark = pytest.mark.slow

VOCAB = ["<pad>", "<eos>", "<unk>", "\\boxed{2}", "\\boxed{3}", "so", "What", "is", "1+1?", "2+1?"]


def _tiny_model() -> tuple[Any, Any]:
    tokenizer = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    config = transformers.LlamaConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    transformers.set_seed(0)
    return transformers.LlamaForCausalLM(config), fast


def test_grpo_trainer_calls_the_adapter_and_trains_on_its_rewards(tmp_path: Path) -> None:
    model, tokenizer = _tiny_model()
    dataset = Dataset.from_list(
        [
            {"prompt": "What is 1+1?", "reference": "2"},
            {"prompt": "What is 2+1?", "reference": "3"},
            {"prompt": "What is 1+1?", "reference": ""},  # no gold: no judgment
        ]
    )
    adapter = trl_reward(domain="math")
    calls: list[tuple[dict[str, Any], list[float | None]]] = []

    def verified_reward(prompts: list, completions: list, **kwargs: Any) -> list[float | None]:
        rewards = adapter(prompts=prompts, completions=completions, **kwargs)
        calls.append(({"prompts": prompts, "completions": completions, **kwargs}, rewards))
        return rewards

    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=6,
        num_generations=2,
        max_completion_length=4,
        max_steps=1,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        seed=0,
        temperature=1.0,
    )
    trainer = trl.GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        reward_funcs=[verified_reward],
        args=args,
        train_dataset=dataset,
    )
    trainer.train()

    assert calls, "the trainer never called the reward function"
    for kwargs, rewards in calls:
        assert len(rewards) == len(kwargs["completions"]) == len(kwargs["prompts"])
        assert {"trainer_state", "log_extra", "log_metric", "completion_ids"} <= set(kwargs)
        for completion, gold, reward in zip(
            kwargs["completions"], kwargs["reference"], rewards, strict=True
        ):
            assert isinstance(completion, str)
            boxed = [w for w in completion.split() if w.startswith("\\boxed")]
            if not gold:
                assert reward is None, completion
            else:
                assert reward == float(bool(boxed) and boxed[-1] == f"\\boxed{{{gold}}}"), (
                    completion,
                    gold,
                    reward,
                )
    logged = trainer.state.log_history[0]
    assert "rewards/verified_reward/mean" in logged, logged
