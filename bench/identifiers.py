"""The identifier check for case notes over its labelled corpus.

Prints, per identifier class, how many corpus sentences hold it, how many of those the
check finds it in, and the recall; the overall recall; the false-alarm rate over the
clean notes; findings of a class the sentence was not labelled with; and the time to
check a note (median and worst, per corpus sentence and for a 1,500-character note, the
longest a member can send). Figures only: the tests hold the thresholds.

Run: `.venv/bin/python -m bench.identifiers`.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

from bot.cases.identifiers import IdentifierClass, find_identifiers
from tests.cases.corpus import negatives, positives

REPEATS = 5
NOTE_LENGTH = 1_500


def timed(text: str) -> float:
    """The best of a few runs, in milliseconds (the others measure the machine)."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        find_identifiers(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def recall() -> None:
    labelled: Counter[IdentifierClass] = Counter()
    found: Counter[IdentifierClass] = Counter()
    unlabelled: Counter[IdentifierClass] = Counter()
    for sentence, labels in positives():
        kinds = {finding.kind for finding in find_identifiers(sentence)}
        labelled.update(labels)
        found.update(labels & kinds)
        unlabelled.update(kinds - labels)
    print(f"{'class':<16}{'positives':>10}{'found':>8}{'recall':>9}{'unlabelled':>12}")
    for kind in IdentifierClass:
        share = found[kind] / labelled[kind] if labelled[kind] else float("nan")
        print(
            f"{kind.name:<16}{labelled[kind]:>10}{found[kind]:>8}{share:>9.3f}"
            f"{unlabelled[kind]:>12}"
        )
    total, hits = sum(labelled.values()), sum(found.values())
    print(f"{'overall':<16}{total:>10}{hits:>8}{hits / total:>9.3f}{sum(unlabelled.values()):>12}")


def false_alarms() -> None:
    clean = negatives()
    flagged = [sentence for sentence in clean if find_identifiers(sentence)]
    rate = len(flagged) / len(clean)
    print(f"\nclean notes: {len(clean)}, flagged: {len(flagged)}, false-alarm rate: {rate:.3f}")


def timing() -> None:
    sentences = [sentence for sentence, _ in positives()] + negatives()
    per_sentence = [timed(sentence) for sentence in sentences]
    print(
        f"\ntime per corpus sentence (mean {statistics.mean(map(len, sentences)):.0f} chars):"
        f" median {statistics.median(per_sentence):.3f} ms, worst {max(per_sentence):.3f} ms"
    )
    # Full-length notes: consecutive corpus sentences, identifiers and clean text mixed.
    notes = []
    for offset in range(0, len(sentences), 40):
        note = " ".join(sentences[offset:] + sentences[:offset])[:NOTE_LENGTH]
        notes.append(note)
    per_note = [timed(note) for note in notes]
    print(
        f"time per {NOTE_LENGTH:,}-character note ({len(notes)} notes):"
        f" median {statistics.median(per_note):.3f} ms, worst {max(per_note):.3f} ms"
    )


def main() -> None:
    print("Identifier check over the labelled corpus\n")
    recall()
    false_alarms()
    timing()


if __name__ == "__main__":
    main()
