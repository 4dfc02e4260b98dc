"""Runs Presidio's analyzer on the corpus, inside bench/.venv-presidio (never imported by Clearance).

Like-for-like with Clearance's default engine: pattern recognizers only, no NER. spaCy runs a blank English
pipeline (tokenizer only, no trained model), with lemmas set to the lower-cased token so that Presidio's context
words still work. Presidio's own scores, with a 0.5 threshold (Clearance's default).

Two modes: ``all`` runs every predefined recognizer (the analyzer as shipped, less NER: what a user runs);
``shared`` asks only for the entity types both engines claim (the most favourable setting for Presidio's speed).

    bench/.venv-presidio/bin/python bench/presidio_runner.py CORPUS.jsonl OUT.json [all|shared]
"""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SlimSpacyNlpEngine
from presidio_analyzer.predefined_recognizers.generic import email_recognizer
from spacy.language import Language

ENTITIES = ["CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "IP_ADDRESS", "US_BANK_NUMBER",
            "ABA_ROUTING_NUMBER"]  # fmt: skip


@Language.component("lower_lemma")
def lower_lemma(doc):  # type: ignore[no-untyped-def]
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class BlankEnglish(SlimSpacyNlpEngine):
    """Tokenizer only: no trained spaCy model is installed (nor needed for pattern recognizers)."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": "en", "model_name": "blank"}], auto_download=False)

    def load(self) -> None:
        nlp = spacy.blank("en")
        nlp.add_pipe("lower_lemma")
        self.nlp = {"en": nlp}


def main() -> None:
    corpus, out = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "all"
    # The e-mail recognizer validates domains with tldextract, which would fetch the public suffix list from the
    # network on first use; the benchmark is offline, so use the snapshot tldextract ships.
    email_recognizer.tldextract = SimpleNamespace(extract=tldextract.TLDExtract(suffix_list_urls=()))
    engine = BlankEnglish()
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    if "SpacyRecognizer" in [r.name for r in registry.recognizers]:
        registry.remove_recognizer("SpacyRecognizer")
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine)
    with open(corpus, encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    supported = sorted(set(ENTITIES) & set(analyzer.get_supported_entities("en")))
    entities = supported if mode == "shared" else None
    analyzer.analyze("warm up 4111 1111 1111 1111 jo@x.io", language="en", entities=entities)
    predictions = []
    record_cpu = []
    cpu = time.process_time()
    wall = time.perf_counter()
    for record in records:
        started = time.process_time()
        results = analyzer.analyze(record["text"], language="en", entities=entities, score_threshold=0.5)
        record_cpu.append(time.process_time() - started)
        predictions.append([{"start": r.start, "end": r.end, "type": r.entity_type, "score": r.score} for r in results])
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    with open(out, "w", encoding="utf-8") as sink:
        result = {"predictions": predictions, "cpu_s": cpu, "wall_s": wall, "supported": supported}
        json.dump({**result, "record_cpu_s": record_cpu}, sink)


if __name__ == "__main__":
    main()
