"""A message of words never seen in training, with no value in it, goes to the fallback."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.unknown_words import UnknownWordsFallback, words


@pytest.fixture
def trained(tmp_path) -> UnknownWordsFallback:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("unknown_words")
    component = UnknownWordsFallback.create({}, storage, resource, None)
    examples = [
        Message(data={"text": "je veux payer mon loyer", "intent": "pay_rent"}),
        Message(data={"text": "quels jours pour le prélèvement ?", "intent": "faq"}),
    ]
    component.train(TrainingData(training_examples=examples))
    # What the model file holds is what the running assistant uses.
    return UnknownWordsFallback.load({}, storage, resource, None)


def parsed(text: str, entities: list[dict] | None = None) -> Message:
    return Message(
        data={
            "text": text,
            "intent": {"name": "out_of_scope", "confidence": 0.9},
            "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}],
            "entities": entities or [],
        }
    )


@pytest.mark.parametrize(
    "text", ["qsdkjfh azpoeiru", "<script>alert(1)</script>", "99999999999999999999", "😡😡😡"]
)
def test_nothing_known_goes_to_the_fallback(trained, text):
    (message,) = trained.process([parsed(text)])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [item["name"] for item in message.get("intent_ranking")] == [
        "nlu_fallback",
        "out_of_scope",
    ]


@pytest.mark.parametrize("text", ["euh alors bon voilà quoi", "Bah... hein ?", "euh"])
def test_hesitations_alone_go_to_the_fallback(trained, text):
    (message,) = trained.process([parsed(text)])
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", ["euh payer le loyer", "bon alors quels jours ?"])
def test_hesitations_around_a_known_word_keep_the_intent(trained, text):
    (message,) = trained.process([parsed(text)])
    assert message.get("intent")["name"] == "out_of_scope"


@pytest.mark.parametrize("text", ["PRELEVEMENT svp", "payer loyr", "Quels jours ?"])
def test_one_known_word_keeps_the_intent(trained, text):
    (message,) = trained.process([parsed(text)])
    assert message.get("intent")["name"] == "out_of_scope"


def test_a_value_is_an_answer_even_in_unknown_words(trained):
    entities = [{"entity": "client_number", "value": "87654321"}]
    (message,) = trained.process([parsed("87654321", entities)])
    assert message.get("intent")["name"] == "out_of_scope"
    language_only = [{"entity": "language", "value": "fr"}]
    (message,) = trained.process([parsed("azpoeiru qsdkjfh", language_only)])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_words_ignore_case_accents_digits_and_single_letters():
    assert words("Prélèvement LE 7 à x") == {"prelevement", "le"}


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('payer mon loyer')</script>",
        "je veux payer <img src=x onerror=alert(1)>",
        "<b>prélèvement</b>",
    ],
)
def test_markup_goes_to_the_fallback_even_with_known_words(trained, text):
    (message,) = trained.process([parsed(text)])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_an_address_in_angle_brackets_is_no_markup(trained):
    (message,) = trained.process([parsed("payer <marie@example.org>")])
    assert message.get("intent")["name"] == "out_of_scope"
