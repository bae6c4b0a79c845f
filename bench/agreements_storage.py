"""Agreements storage benchmark: store + seal + fetch of agreement documents through the service's
own code, with envelope encryption and, side by side in the same run, the same path without it.

    uv run python -m bench.agreements_storage                     # SQLite in a temp dir, ~30 s
    uv run python -m bench.agreements_storage --docs 100 --rounds 2   # quicker
    uv run python -m bench.agreements_storage --database-url postgresql+asyncpg://postgres@127.0.0.1/odr_bench
    uv run python -m bench.agreements_storage --json out.json

One operation, per document:
- **store + seal** (one transaction): insert the agreement, canonicalise (RFC 8785) and hash the
  document, encrypt it (``vault.Vault``: fresh AES-256-GCM data key, wrapped by the KEK), insert
  the version, sign the platform seal (Ed25519) over hash + signers + time, insert the seal
  record, commit;
- **fetch** (one read transaction): load the version, unwrap the data key, decrypt, check the
  hash, verify the seal.

The ``plain`` variant runs exactly the same code with a vault that stores the canonical JSON as
is (no data key, no wrapping, no AES). Variants alternate in rounds so machine noise hits both
alike. The PDF is not in the loop (it is rendered once per executed agreement and dominates any
timing); its render time is printed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from services.agreements import context as context_module
from services.agreements import service
from services.agreements.documents import AgreementContent
from services.agreements.models import Agreement, AgreementVersion, Base, CaseRef, SealRecord
from services.agreements.vault import Vault
from shared.config import Settings
from shared.crypto import Sealed
from shared.db import create_engine, create_session_factory

GOAL = 1.3


class PlainVault(Vault):
    """The same interface, no encryption: the baseline."""

    def __init__(self) -> None:
        pass

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        return Sealed(ciphertext=plaintext, wrapped_key=b"", kek_id="none", kek_version=0)

    def open(self, row, *, aad: bytes, what: str = "content") -> bytes:
        return row.ciphertext


def sample_content(i: int) -> AgreementContent:
    return AgreementContent.model_validate({
        "title": "Соглашение об урегулировании гражданского спора в порядке медиации",
        "parties": [{"side": "claimant", "name": f"Асқар Нұрланұлы {i}", "identifier": "900101300123"},
                    {"side": "respondent", "name": "ТОО «Ғарыш Құрылыс»"}],
        "mediator": {"name": "Әлия Сейітқызы", "register_number": "MED-042"},
        "subject": "Взыскание задолженности по договору подряда " + "и неустойки " * 20,
        "obligations": [{"id": f"o{k}", "obligor": "respondent", "obligee": "claimant",
                         "what": "Погасить задолженность частями " + "по графику " * 10, "amount": "150000.00",
                         "currency": "KZT", "deadline": "2030-01-15", "manner": "банковский перевод"}
                        for k in range(4)],
        "procedure": "Каждое обязательство исполняется в указанный срок. " * 5,
        "consequences": "Если соглашение не исполнено добровольно, истец вправе обратиться в суд. " * 3,
    })


@dataclass
class Timings:
    store: list[float]
    fetch: list[float]
    bytes_stored: int = 0


async def run_variant(session_factory, ctx, case_id: str, docs: int, variant: str) -> Timings:
    timings = Timings([], [])
    ids = []
    for i in range(docs):
        content = sample_content(i)
        t0 = time.perf_counter()
        async with session_factory() as session, session.begin():
            now = datetime.now(timezone.utc)
            agreement = Agreement(id=str(uuid.uuid4()), case_id=case_id, jurisdiction="KZ", category="civil",
                                  language="ru", status="executed", current_version=1, signers=["claimant", "respondent", "mediator"],
                                  source_proposals=[], created_by="bench", created_at=now, updated_at=now,
                                  audit_seq=0, audit_head="")
            session.add(agreement)
            await session.flush()
            digest = await service.store_version(ctx, session, agreement, 1, content, "bench")
            signers = [{"slot": s, "signer": f"{s}:{case_id}", "signed_at": now.isoformat(), "method": "platform"}
                       for s in agreement.signers]
            seal = ctx.signer.sign({"agreement_id": agreement.id, "version": 1, "document_hash": digest,
                                    "signers": signers, "sealed_at": now.isoformat()})
            session.add(SealRecord(agreement_id=agreement.id, version=1, document_hash=digest, seal=seal,
                                   pdf_sha256="", sealed_at=now))
        timings.store.append(time.perf_counter() - t0)
        ids.append(agreement.id)
    for agreement_id in ids:
        t0 = time.perf_counter()
        async with session_factory() as session:
            row = await session.get(AgreementVersion, (agreement_id, 1))
            document = service.open_document(ctx, row)
            record = await session.get(SealRecord, agreement_id)
            assert ctx.signer.verify(record.seal) and record.document_hash == row.document_hash
            assert document["agreement_id"] == agreement_id
        timings.fetch.append(time.perf_counter() - t0)
    async with session_factory() as session:
        timings.bytes_stored = (await session.execute(
            select(func.sum(func.length(AgreementVersion.ciphertext) + func.coalesce(func.length(AgreementVersion.wrapped_key), 0)))
            .where(AgreementVersion.agreement_id.in_(ids)))).scalar_one()
    return timings


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"ops": len(samples), "per_s": len(samples) / sum(samples),
            "p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "mean_ms": 1000 * statistics.fmean(ordered)}


async def main(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="odr-bench-agreements-"))
    settings = Settings(data_dir=tmp, dev_mode=True)  # an embedded run: its keys are made on first use
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'agreements.sqlite3'}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    session_factory = create_session_factory(engine)
    encrypted = context_module.build(settings)
    plain = context_module.Context(settings=settings, config=encrypted.config, vault=PlainVault(), signer=encrypted.signer,
                                   qualified=encrypted.qualified)
    case_id = str(uuid.uuid4())
    async with session_factory() as session, session.begin():
        session.add(CaseRef(case_id=case_id, court_id=None, jurisdiction="KZ", category="civil",
                            filed_at=datetime.now(timezone.utc)))
    await run_variant(session_factory, encrypted, case_id, 20, "warmup")
    await run_variant(session_factory, plain, case_id, 20, "warmup")
    results = {"encrypted": Timings([], []), "plain": Timings([], [])}
    for r in range(args.rounds):
        order = (("plain", plain), ("encrypted", encrypted)) if r % 2 == 0 else (("encrypted", encrypted), ("plain", plain))
        for name, ctx in order:
            t = await run_variant(session_factory, ctx, case_id, args.docs, name)
            results[name].store += t.store
            results[name].fetch += t.fetch
            results[name].bytes_stored += t.bytes_stored
    await engine.dispose()

    from services.agreements.pdf import render_pdf
    doc = {"agreement_id": "a", "case_id": case_id, "version": 1, "jurisdiction": "KZ", "category": "civil", "language": "ru",
           "content": sample_content(0).model_dump(mode="json", exclude_none=True)}
    sealed = {"document": doc, "signatures": [], "seal": encrypted.signer.sign(
        {"document_hash": "0" * 64, "sealed_at": datetime.now(timezone.utc).isoformat()})}
    t0 = time.perf_counter()
    for _ in range(5):
        render_pdf(sealed, verify_url="https://odr.example/verify/" + "0" * 64)
    pdf_ms = (time.perf_counter() - t0) / 5 * 1000

    out = {"database": url.split(":")[0], "docs_per_variant": args.docs * args.rounds, "pdf_render_ms": pdf_ms}
    for name, t in results.items():
        total = [a + b for a, b in zip(t.store, t.fetch)]
        out[name] = {"store_seal": summary(t.store), "fetch": summary(t.fetch), "store_seal_fetch": summary(total),
                     "bytes_per_doc": t.bytes_stored / len(t.store)}
    enc, pl = out["encrypted"], out["plain"]
    out["ratio"] = {
        "store_seal_fetch_mean": enc["store_seal_fetch"]["mean_ms"] / pl["store_seal_fetch"]["mean_ms"],
        "store_seal_mean": enc["store_seal"]["mean_ms"] / pl["store_seal"]["mean_ms"],
        "fetch_mean": enc["fetch"]["mean_ms"] / pl["fetch"]["mean_ms"],
        "bytes": enc["bytes_per_doc"] / pl["bytes_per_doc"],
    }
    return out


def report(out: dict) -> str:
    lines = [f"database: {out['database']}   documents per variant: {out['docs_per_variant']}", "",
             f"{'variant':<10} {'phase':<17} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}"]
    for name in ("plain", "encrypted"):
        for phase in ("store_seal", "fetch", "store_seal_fetch"):
            s = out[name][phase]
            lines.append(f"{name:<10} {phase:<17} {s['per_s']:>8.0f} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} {s['mean_ms']:>8.2f}")
    r = out["ratio"]
    lines += ["", f"encrypted / plain, store+seal+fetch (mean): {r['store_seal_fetch_mean']:.2f}x   (goal <= {GOAL}x: "
                  f"{'met' if r['store_seal_fetch_mean'] <= GOAL else 'NOT met'})",
              f"  store+seal {r['store_seal_mean']:.2f}x, fetch {r['fetch_mean']:.2f}x, bytes stored {r['bytes']:.2f}x "
              f"({out['encrypted']['bytes_per_doc']:.0f} vs {out['plain']['bytes_per_doc']:.0f} B/doc)",
              f"PDF render (not in the loop): {out['pdf_render_ms']:.0f} ms per agreement"]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=250, help="documents per variant per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    parser.add_argument("--json", default=None)
    ns = parser.parse_args()
    result = asyncio.run(main(ns))
    print(report(result))
    if ns.json:
        Path(ns.json).write_text(json.dumps(result, indent=2))
