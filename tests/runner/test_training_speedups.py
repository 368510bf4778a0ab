"""Training speed-ups keep what Rasa computes (issue 10, training time): each model's training
step is traced once instead of twice and the model still learns; a token's fingerprint is
Rasa's, recomputed when the token changes."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.models import RasaModel

from bot.runner import rasa_main, training, training_speedups

EXAMPLES = {
    "pay_rent": ["je veux payer mon loyer", "payer le loyer en ligne", "regler mon loyer"],
    "register": ["je veux m inscrire", "creer mon compte locataire", "inscription extranet"],
    "forgot_password": ["mot de passe oublie", "j ai perdu mon mot de passe", "reset password"],
}


@pytest.fixture
def installed(rasas_own: None) -> None:
    training_speedups.install()


def train_diet(root: Path) -> tuple[DIETClassifier, WhitespaceTokenizer, CountVectorsFeaturizer]:
    storage = LocalModelStorage(root)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("featurizer"), context
    )
    config = {
        **DIETClassifier.get_default_config(),
        "epochs": 80,
        "learning_rate": 0.01,
        "constrain_similarities": True,
        "transformer_size": 32,
        "number_of_transformer_layers": 1,
        "entity_recognition": False,
        "random_seed": 3,
    }
    classifier = DIETClassifier.create(config, storage, Resource("diet"), context)
    data = TrainingData(
        training_examples=[
            Message(data={"text": text, "intent": intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)
    classifier.train(data)
    return classifier, tokenizer, featurizer


def test_rasa_traces_the_training_step_twice(tmp_path: Path, rasas_own: None) -> None:
    classifier, _, _ = train_diet(tmp_path)
    assert classifier.model.train_function.experimental_get_tracing_count() == 2


def test_the_training_step_is_traced_once_and_the_model_learns(
    tmp_path: Path, installed: None
) -> None:
    classifier, tokenizer, featurizer = train_diet(tmp_path)
    assert classifier.model.train_function.experimental_get_tracing_count() == 1
    for intent, texts in EXAMPLES.items():
        for text in texts:
            message = Message(data={"text": text})
            tokenizer.process([message])
            featurizer.process([message])
            classifier.process([message])
            assert message.get("intent")["name"] == intent


def test_a_tokens_fingerprint_is_rasas_until_its_data_changes(installed: None) -> None:
    token = Token("prélèvement", 12, data={"pos": "NOUN"})
    first = token.fingerprint()
    assert first == training_speedups._rasa_token_fingerprint(token)
    token.set("pos", "VERB")
    assert token.fingerprint() != first
    assert token.fingerprint() == training_speedups._rasa_token_fingerprint(token)


def test_the_rasa_entry_point_installs_them(rasas_own: None) -> None:
    with (
        mock.patch.object(sys, "argv", ["rasa", "--version"]),
        mock.patch("rasa.__main__.main"),
    ):
        rasa_main.main()
    assert RasaModel.fit is training_speedups.fit_traced_once
    assert Token.fingerprint is training_speedups.cached_token_fingerprint


def test_every_training_goes_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(training.subprocess, "call", lambda argv, **kwargs: calls.append(argv) or 0)
    training.train_model(Path("."))
    assert calls[0][:4] == [sys.executable, "-m", "bot.runner.rasa_main", "train"]
    # The bare bot of the speed bench stays Rasa's own.
    assert training.rasa_command("run")[:3] == [sys.executable, "-m", "rasa"]
    ci = (Path(__file__).parents[2] / "scripts" / "test").read_text(encoding="utf-8")
    assert "-m bot.runner.rasa_main train" in ci
