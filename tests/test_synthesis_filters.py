"""`synthesis.filters`: ROUGE-L, Self-Instruct's novelty pool and filters, Evol-Instruct's
failed evolutions, MetaMath's backward (FOBAR) questions."""

from __future__ import annotations

import dataclasses
import random

import pytest

from verified_factory.synthesis.filters import (
    DEFAULT_BLACKLIST,
    BackwardQuestion,
    NoveltyPool,
    backward_question,
    failed_evolution,
    instruction_problem,
    rouge_l,
)

# Distinct tokens, to build texts with a known longest common subsequence.
WORDS = [f"w{index}" for index in range(26)]


def text(*words: str) -> str:
    return " ".join(words)


def reference_rouge_l(a: list[str], b: list[str]) -> float:
    """rouge_score's computation: an LCS table, then P, R and 2PR/(P+R)."""
    if not a or not b:
        return 0.0
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    lcs = table[-1][-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(b), lcs / len(a)
    return 2 * precision * recall / (precision + recall)


# ROUGE-L


def test_rouge_l_of_hand_computed_pairs() -> None:
    # LCS "the cat on the mat" = 5: P = 5/5, R = 5/6, F = 10/11.
    assert rouge_l("the cat sat on the mat", "the cat on the mat") == 10 / 11
    assert rouge_l("the cat on the mat", "the cat sat on the mat") == 10 / 11
    # LCS "the gunman" = 2 of 4 and 4 tokens.
    assert rouge_l("police killed the gunman", "the gunman killed police") == 0.5
    assert rouge_l("a b c", "a b c") == 1.0
    assert rouge_l("a b c", "d e f") == 0.0


def test_rouge_l_tokenises_like_rouge_score() -> None:
    assert rouge_l("Hello, World!", "hello world") == 1.0
    assert rouge_l("snake_case x2", "snake case X2") == 1.0
    # Only [a-z0-9] makes tokens: "café" is "caf", and a text with no such character has none.
    assert rouge_l("café", "caf") == 1.0
    assert rouge_l("", "hello") == 0.0
    assert rouge_l("?!", "hello") == 0.0
    assert rouge_l("日本語", "日本語") == 0.0


def test_rouge_l_agrees_with_rouge_scores_formula() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = [rng.choice("abcdef") for _ in range(rng.randint(0, 25))]
        b = [rng.choice("abcdefg") for _ in range(rng.randint(0, 25))]
        assert rouge_l(" ".join(a), " ".join(b)) == pytest.approx(reference_rouge_l(a, b))


# NoveltyPool


def test_a_score_of_exactly_the_threshold_is_admitted() -> None:
    kept = text(*WORDS[:10])
    candidate = text(*WORDS[:7], *WORDS[20:23])  # LCS 7 of 10 and 10 tokens: 14/20
    assert rouge_l(kept, candidate) == 0.7
    pool = NoveltyPool([kept])
    assert pool.admit(candidate) == (True, 0.7, kept)
    assert len(pool) == 2


def test_a_score_just_above_the_threshold_is_dropped() -> None:
    kept = text(*WORDS[:17])
    candidate = text(*WORDS[:12], *WORDS[20:25])  # LCS 12 of 17 and 17 tokens: 24/34
    assert rouge_l(kept, candidate) == 12 / 17
    assert 0.7 < 12 / 17 < 0.71
    pool = NoveltyPool([kept])
    assert pool.admit(candidate) == (False, 12 / 17, kept)
    assert len(pool) == 1
    # Dropped, it is not in the pool: asked again, it is compared with the kept text only.
    assert pool.closest(candidate) == (12 / 17, kept)


def test_a_score_just_below_the_threshold_is_admitted() -> None:
    kept = text(*WORDS[:10])
    candidate = text(*WORDS[:7], *WORDS[20:24])  # LCS 7 of 10 and 11 tokens: 14/21
    pool = NoveltyPool([kept])
    assert pool.admit(candidate) == (True, 14 / 21, kept)


def test_the_closest_pool_text_is_reported() -> None:
    far, near = text(*WORDS[:3], *WORDS[10:17]), text(*WORDS[:8], *WORDS[17:19])
    pool = NoveltyPool([far, near, text(*WORDS[20:26])])
    query = text(*WORDS[:10])
    assert pool.closest(query) == (rouge_l(query, near), near)
    assert rouge_l(query, near) == 0.8
    assert pool.admit(query) == (False, 0.8, near)


def test_an_empty_pool_admits_anything() -> None:
    pool = NoveltyPool()
    assert len(pool) == 0
    assert pool.closest("Write a poem.") == (0.0, None)
    assert pool.admit("Write a poem.") == (True, 0.0, None)
    assert pool.admit("write a POEM!") == (False, 1.0, "Write a poem.")
    assert len(pool) == 1


def test_a_text_sharing_no_token_has_no_closest_text() -> None:
    pool = NoveltyPool(["Write a poem."])
    assert pool.closest("Solve 2 + 2") == (0.0, None)
    assert pool.closest("???") == (0.0, None)


def test_seed_texts_all_join_the_pool() -> None:
    assert len(NoveltyPool(["Write a poem.", "Write a poem."])) == 2


def test_the_threshold_is_configurable() -> None:
    pool = NoveltyPool([text(*WORDS[:10])], threshold=0.5)
    assert pool.admit(text(*WORDS[:6], *WORDS[20:24]))[0] is False  # 12/20
    assert pool.admit(text(*WORDS[:5], *WORDS[20:25]))[0] is True  # 10/20


# Vocabularies for generated instructions, small enough that they share many words.
VERBS = "write explain compute find describe list compare summarize classify solve".split()  # noqa: SIM905
TOPICS = (  # noqa: SIM905
    "function number string tree equation integral triangle circle sequence matrix poem story "
    "essay recipe budget schedule argument theorem algorithm database network protocol"
).split()
FILLER = (  # noqa: SIM905
    "the a of for in with and that each every two three given following its small large prime "
    "even odd sorted random simple short long famous unusual about how why when"
).split()


def instruction(rng: random.Random) -> str:
    body = [rng.choice(TOPICS + FILLER + FILLER) for _ in range(rng.randint(5, 22))]
    return text(rng.choice(VERBS), *body)


def mutation(rng: random.Random, source: str) -> str:
    """`source` with a few words replaced, dropped or inserted: a score near the threshold."""
    words = source.split()
    for _ in range(rng.randint(1, 4)):
        index = rng.randrange(len(words))
        edit = rng.choice(("replace", "drop", "insert"))
        if edit == "replace":
            words[index] = rng.choice(TOPICS)
        elif edit == "drop" and len(words) > 3:
            del words[index]
        else:
            words.insert(index, rng.choice(TOPICS))
    return text(*words)


def test_pruning_gives_the_brute_force_result_on_a_pool_of_3000() -> None:
    rng = random.Random(2024)
    texts = [instruction(rng) for _ in range(3000)]
    queries = [mutation(rng, rng.choice(texts)) for _ in range(25)]
    queries += [instruction(rng) for _ in range(10)]
    pool = NoveltyPool(texts)
    outcomes = []
    for query in queries:
        expected = max(rouge_l(query, kept) for kept in texts)
        admitted, score, closest = pool.admit(query)
        assert score == expected
        assert closest is not None and rouge_l(query, closest) == expected
        assert admitted == (expected <= 0.7)
        if admitted:
            texts.append(query)
        outcomes.append((admitted, score))
    assert len(pool) == len(texts)
    assert any(admitted for admitted, _ in outcomes)
    assert not all(admitted for admitted, _ in outcomes)
    assert any(0.6 < score < 0.8 for _, score in outcomes)


# instruction_problem


def test_a_good_instruction_passes() -> None:
    assert instruction_problem("Write a function that returns the sum of two numbers.") is None
    assert instruction_problem("  3 friends share 12 apples equally. How many each?  ") is None


def test_empty_text_is_rejected() -> None:
    assert instruction_problem("") == "is empty"
    assert instruction_problem(" \n\t") == "is empty"


@pytest.mark.parametrize(
    ("instruction", "first"), [("#1 Write a poem about rain.", "#"), ("- List three colours.", "-")]
)
def test_a_start_with_punctuation_is_rejected(instruction: str, first: str) -> None:
    reason = f"starts with the punctuation mark {first!r}; start with a word"
    assert instruction_problem(instruction) == reason


@pytest.mark.parametrize(
    ("instruction", "first"),
    [("Écrivez un poème sur la pluie.", "É"), ("¿Cuál es la capital de Francia?", "¿")],
)
def test_a_non_english_start_is_rejected(instruction: str, first: str) -> None:
    reason = f"starts with {first!r}, which is not an English letter or digit"
    assert instruction_problem(instruction) == reason


def test_word_count_limits_at_their_boundaries() -> None:
    assert instruction_problem("Sing") == "has 1 word; at least 3 are required"
    assert instruction_problem("Sing loudly") == "has 2 words; at least 3 are required"
    assert instruction_problem("Sing very loudly") is None
    assert instruction_problem(" ".join(["Count"] * 150)) is None
    assert (
        instruction_problem(" ".join(["Count"] * 151)) == "has 151 words; at most 150 are allowed"
    )
    assert instruction_problem("Sing loudly", min_words=2) is None
    assert instruction_problem("Sing very loudly", max_words=2) == (
        "has 3 words; at most 2 are allowed"
    )


def test_the_default_blacklist_is_self_instructs() -> None:
    assert set(DEFAULT_BLACKLIST) == {
        *("image", "images", "graph", "graphs", "picture", "pictures", "file", "files"),
        *("map", "maps", "draw", "plot", "go to", "video", "audio", "music", "flowchart"),
        "diagram",
    }


@pytest.mark.parametrize("word", DEFAULT_BLACKLIST)
def test_every_blacklisted_word_is_rejected(word: str) -> None:
    reason = f"mentions {word!r}, which a text model cannot handle"
    assert instruction_problem(f"Describe the {word} in detail.") == reason
    upper = word.upper()
    assert instruction_problem(f"Describe the {upper}, please.") == (
        f"mentions {upper!r}, which a text model cannot handle"
    )


@pytest.mark.parametrize(
    "instruction",
    [
        "Describe the imagery of the poem.",
        "Explain how a hash mapping works.",
        "Name a drawback of recursion.",
        "Explain why the filed report was late.",
        "Name two graphical user interfaces.",
        "Plotting a course, sailors go together.",
        "Describe a musical scale.",
    ],
)
def test_blacklisted_words_count_only_whole(instruction: str) -> None:
    assert instruction_problem(instruction) is None


def test_a_blacklisted_phrase_matches_across_white_space() -> None:
    reason = "mentions 'go  to', which a text model cannot handle"
    assert instruction_problem("Tell me when to go  to bed.") == reason


def test_the_blacklist_is_configurable() -> None:
    assert instruction_problem("Make a chart of sales.", blacklist=["chart"]) == (
        "mentions 'chart', which a text model cannot handle"
    )
    assert instruction_problem("Describe the image in detail.", blacklist=["chart"]) is None
    assert instruction_problem("Describe the image in detail.", blacklist=[]) is None


# failed_evolution

ORIGINAL = "Find the sum of 3 and 5."
REWRITE_PROMPT = (
    "I want you act as a Prompt Rewriter. Your objective is to rewrite a given prompt into a more "
    "complex version to make those famous AI systems harder to handle."
)
LONG_ORIGINAL = (
    "A farmer has 12 cows and 20 chickens on a farm near the river, and each cow gives 8 liters "
    "of milk every day. How many liters does the farmer get in a week?"
)


def test_a_good_evolution_passes() -> None:
    evolved = "Find the sum of 3, 5 and 12, then divide it by the number of terms."
    assert failed_evolution(ORIGINAL, evolved, rewrite_prompt=REWRITE_PROMPT) is None


def test_an_empty_evolution_fails() -> None:
    assert failed_evolution(ORIGINAL, "") == "is empty"
    assert failed_evolution(ORIGINAL, "  \n ") == "is empty"


@pytest.mark.parametrize("evolved", ["The of and, to it!", "?!...", "Is it that?"])
def test_an_evolution_of_stop_words_and_punctuation_fails(evolved: str) -> None:
    assert failed_evolution(ORIGINAL, evolved) == "has only stop words and punctuation"


@pytest.mark.parametrize(
    ("evolved", "phrase"),
    [
        ("I'm sorry, but this prompt cannot be made harder.", "sorry"),
        ("As an AI language model, I do not solve homework.", "as an ai"),
        ("I cannot rewrite this prompt.", "i cannot"),
        ("I can’t make this more complex.", "i can't"),
        ("I CAN'T solve that.", "i can't"),
    ],
)
def test_a_short_refusal_fails(evolved: str, phrase: str) -> None:
    assert (
        failed_evolution(ORIGINAL, evolved) == f"reads as a refusal ({phrase!r} in under 80 words)"
    )


def test_a_refusal_phrase_in_a_long_evolution_is_not_a_refusal() -> None:
    story = "Write a story in which a sailor says sorry to the captain after losing the map's copy."
    evolved = story + " Then" + " the crew rows home" * 18 + "."
    assert len(evolved.split()) >= 80
    assert failed_evolution(ORIGINAL, evolved) is None
    assert failed_evolution(ORIGINAL, story).startswith("reads as a refusal")


def test_a_word_that_only_contains_a_refusal_is_not_one() -> None:
    assert failed_evolution(ORIGINAL, "Find the sum of 3, 5 and 12 if I can take 2 away.") is None


@pytest.mark.parametrize(
    ("evolved", "phrase"),
    [
        ("#Rewritten Prompt#: Find the sum of 3, 5 and 12.", "rewritten prompt"),
        ("Rewritten prompt: find the sum of 3, 5 and 12.", "rewritten prompt"),
        ("#Given Prompt#: Find the sum of 3 and 5, then square it.", "given prompt"),
        ("Unlike the given prompt, find the product of 3, 5 and 12.", "given prompt"),
        ("The created prompt: find the sum of 3, 5 and 12.", "created prompt"),
    ],
)
def test_an_evolution_naming_the_prompts_parts_fails(evolved: str, phrase: str) -> None:
    assert (
        failed_evolution(ORIGINAL, evolved) == f"copies the rewrite prompt's wording ({phrase!r})"
    )


def test_an_evolution_copying_eight_words_of_the_rewrite_prompt_fails() -> None:
    evolved = "Find the sum of 3, 5 and 12 in a more complex version to make those famous AI fail."
    assert failed_evolution(ORIGINAL, evolved, rewrite_prompt=REWRITE_PROMPT) == (
        "copies the rewrite prompt's wording ('a more complex version to make those famous')"
    )
    assert failed_evolution(ORIGINAL, evolved) is None


def test_seven_words_of_the_rewrite_prompt_are_not_a_copy() -> None:
    evolved = "Find the sum of 3, 5 and 12, a more complex version to make those people happy."
    assert failed_evolution(ORIGINAL, evolved, rewrite_prompt=REWRITE_PROMPT) is None


def test_the_originals_words_in_a_filled_in_rewrite_prompt_are_not_a_copy() -> None:
    filled = f"{REWRITE_PROMPT}\n#The Given Prompt#:\n{LONG_ORIGINAL}\n#Rewritten Prompt#:"
    evolved = LONG_ORIGINAL + " Milk sells for $2 a liter: what is the week's income?"
    assert failed_evolution(LONG_ORIGINAL, evolved, rewrite_prompt=filled) is None


def test_the_original_up_to_case_space_and_punctuation_adds_nothing() -> None:
    reason = "adds nothing: it is the original up to case, white space and punctuation"
    assert failed_evolution(ORIGINAL, "  FIND the sum of 3 and 5!! ") == reason
    assert failed_evolution(ORIGINAL, ORIGINAL) == reason


def test_a_near_copy_without_a_new_word_adds_nothing() -> None:
    shorter = LONG_ORIGINAL.replace(" near the river", " the river")  # one word fewer
    score = rouge_l(LONG_ORIGINAL, shorter)
    assert score >= 0.95
    assert failed_evolution(LONG_ORIGINAL, shorter) == (
        f"adds no new word and has a ROUGE-L of {score:.2f} with the original"
    )


def test_a_near_copy_with_a_new_word_passes() -> None:
    longer = LONG_ORIGINAL.replace("8 liters", "8 or 9 liters")
    assert rouge_l(LONG_ORIGINAL, longer) >= 0.95
    assert failed_evolution(LONG_ORIGINAL, longer) is None


def test_a_rewording_of_the_originals_words_passes() -> None:
    # No new word, but a different order: ROUGE-L under 0.95.
    evolved = "Find 5 and 3: the sum of."
    assert rouge_l(ORIGINAL, evolved) < 0.95
    assert failed_evolution(ORIGINAL, evolved) is None


# backward_question

NATALIA = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips to "
    "her friends in May. How many clips did Natalia sell altogether in April and May?"
)
SUFFIX = (
    " If we know the answer to the above question is {}, what is the value of unknown variable x?"
)


def test_a_gsm8k_question_becomes_a_backward_question() -> None:
    assert backward_question(NATALIA, "72") == BackwardQuestion(
        problem=NATALIA.replace("48", "x") + SUFFIX.format(72), masked="48", position=0
    )


def test_thousands_commas_are_read_and_dropped_from_the_masked_number() -> None:
    question = "A house costs $1,200,000 and a car costs $25,000. How much do they cost together?"
    first = backward_question(question, "1,225,000")
    assert first is not None
    assert first.masked == "1200000"
    assert first.problem == (
        "A house costs $x and a car costs $25,000. How much do they cost together?"
        + SUFFIX.format("1,225,000")
    )
    counts: list[int] = []
    second = backward_question(question, "1,225,000", choose=lambda n: counts.append(n) or 1)
    assert counts == [2]
    assert second == BackwardQuestion(
        "A house costs $1,200,000 and a car costs $x. How much do they cost together?"
        + SUFFIX.format("1,225,000"),
        "25000",
        1,
    )


def test_decimals_are_numbers() -> None:
    question = "James buys 3 notebooks at $2.75 each. How much does he spend?"
    chosen = backward_question(question, "8.25", choose=lambda n: n - 1)
    assert chosen == BackwardQuestion(
        "James buys 3 notebooks at $x each. How much does he spend?" + SUFFIX.format("8.25"),
        "2.75",
        1,
    )


def test_numbers_equal_to_the_answer_are_skipped() -> None:
    question = "Sam had 10 marbles and lost 3. He then found 3 more. How many does he have now?"
    counts: list[int] = []
    chosen = backward_question(question, "10", choose=lambda n: counts.append(n) or 0)
    assert counts == [2]
    assert chosen is not None
    assert chosen.masked == "3"
    assert chosen.problem.startswith("Sam had 10 marbles and lost x. He then found 3 more.")
    # Compared by value: "10.0", "$10" and "10 marbles" are 10; "1,000" is 1000.
    for answer in ("10.0", "$10", "10 marbles"):
        chosen = backward_question(question, answer)
        assert chosen is not None and chosen.masked == "3"
    assert backward_question("It costs 1000 dollars. How much?", "1,000") is None


def test_a_question_whose_only_numbers_are_the_answer_has_none() -> None:
    assert backward_question("Ann has 7 pens. How many pens does Ann have?", "7") is None
    assert backward_question("How many days are there in a week?", "7") is None


@pytest.mark.parametrize(
    "question",
    [
        "If 2x + 3 = 11, what is the value of 5?",
        "Let x be the number of apples, with 4 apples in a bag. What is 3x?",
        "What is 3 x 4?",
    ],
)
def test_a_question_that_has_a_variable_x_is_refused(question: str) -> None:
    assert backward_question(question, "12") is None


def test_an_x_inside_a_word_is_not_a_variable() -> None:
    chosen = backward_question("Max has 6 boxes of 4 toys. How many toys?", "24")
    assert chosen is not None and chosen.problem.startswith("Max has x boxes of 4 toys.")


def test_digits_inside_words_are_not_numbers() -> None:
    question = "Player a2 came 10th with 35 points and b3 had 40. How many more had b3?"
    chosen = backward_question(question, "5")
    assert chosen is not None
    assert chosen.masked == "35"
    assert chosen.problem.startswith("Player a2 came 10th with x points and b3 had 40.")


def test_numbers_in_latex_command_arguments_are_not_masked() -> None:
    chosen = backward_question(r"What is $\frac{1}{2}$ of 30?", "15")
    assert chosen is not None
    assert chosen.problem == r"What is $\frac{1}{2}$ of x?" + SUFFIX.format(15)
    chosen = backward_question(r"What is $\sqrt[3]{27} + 4^{2}$?", "19")
    assert chosen is not None
    assert (chosen.masked, chosen.problem) == (
        "4",
        r"What is $\sqrt[3]{27} + x^{2}$?" + SUFFIX.format(19),
    )
    assert backward_question(r"Simplify $\frac {3}{\sqrt{16}}$.", "0.75") is None


def test_trailing_white_space_is_dropped_before_the_suffix() -> None:
    chosen = backward_question("Tom reads 20 pages a day. How many in 3 days?\n", "60")
    assert chosen is not None
    assert chosen.problem == "Tom reads x pages a day. How many in 3 days?" + SUFFIX.format(60)


def test_a_choice_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"choose\(1\) returned 1"):
        backward_question(NATALIA, "72", choose=lambda n: n)


def test_a_backward_question_is_frozen() -> None:
    chosen = backward_question(NATALIA, "72")
    assert chosen is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen.masked = "12"  # type: ignore[misc]
