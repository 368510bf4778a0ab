"""The help page's response selector without token-level text features (issue 10, training
time): the same answers, a model a fraction of Rasa's size, Rasa's selector unchanged when it
has a transformer to read the tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.response_selector import SentenceResponseSelector

QUESTIONS = {
    "faq/debit_days": ["quels jours pour le prelevement", "le prelevement c est quel jour"],
    "faq/card_payment": ["je peux payer par carte", "paiement par carte bancaire possible"],
    "faq/signed_mandate": ["ou envoyer le mandat signe", "a qui je renvoie le mandat"],
    "faq/insurance_delay": ["combien de temps pour valider mon assurance", "delai assurance"],
}


class Pipeline:
    """Tokenizer, word counts and one selector, trained on QUESTIONS as the assistant's are."""

    def __init__(self, selector_class: type[ResponseSelector], root: Path, **config) -> None:
        self.storage = LocalModelStorage(root)
        context = ExecutionContext(GraphSchema({}), "test")
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.featurizer = CountVectorsFeaturizer.create(
            CountVectorsFeaturizer.get_default_config(),
            self.storage,
            Resource("featurizer"),
            context,
        )
        selector_config = {
            **selector_class.get_default_config(),
            "retrieval_intent": "faq",
            "epochs": 40,
            "random_seed": 7,
            **config,
        }
        self.selector = selector_class.create(
            selector_config, self.storage, Resource("selector"), context
        )
        data = TrainingData(
            training_examples=[
                Message(data={"text": text, "intent": "faq", "intent_response_key": key})
                for key, texts in QUESTIONS.items()
                for text in texts
            ],
            responses={f"utter_{key}": [{"text": key}] for key in QUESTIONS},
        )
        self.tokenizer.process_training_data(data)
        self.featurizer.train(data)
        self.featurizer.process_training_data(data)
        self.selector.train(data)

    def answer(self, text: str) -> str:
        message = Message(data={"text": text})
        self.tokenizer.process([message])
        self.featurizer.process([message])
        self.selector.process([message])
        return message.get("response_selector")["faq"]["response"]["intent_response_key"]

    def weights(self) -> int:
        return sum(int(weight.shape.num_elements()) for weight in self.selector.model.weights)


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> Pipeline:
    return Pipeline(SentenceResponseSelector, tmp_path_factory.mktemp("ours"))


@pytest.fixture(scope="module")
def rasas(tmp_path_factory) -> Pipeline:
    return Pipeline(ResponseSelector, tmp_path_factory.mktemp("rasas"))


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_each_question_gets_its_answer(ours: Pipeline, rasas: Pipeline, key: str) -> None:
    for text in QUESTIONS[key]:
        assert ours.answer(text) == rasas.answer(text) == key


def test_the_token_level_input_layer_is_gone(ours: Pipeline, rasas: Pipeline) -> None:
    vocabulary = len(ours.featurizer.vectorizers["text"].vocabulary_)
    # Rasa's selector carries a vocabulary x 512 layer for the tokens it never reads.
    assert rasas.weights() - ours.weights() >= vocabulary * 512 - 512
    assert ours.selector.model.data_signature["text"]["sequence"][0].units == 1
    assert ours.selector.model.data_signature["text"]["sentence"][0].units == vocabulary


def test_with_a_transformer_it_is_rasas_selector(tmp_path: Path) -> None:
    pipeline = Pipeline(
        SentenceResponseSelector,
        tmp_path,
        number_of_transformer_layers=1,
        transformer_size=32,
        epochs=2,
    )
    vocabulary = len(pipeline.featurizer.vectorizers["text"].vocabulary_)
    assert pipeline.selector.model.data_signature["text"]["sequence"][0].units == vocabulary
