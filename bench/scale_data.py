"""The alerts of bench/api_scale.py: generated with a fixed seed, signed by one peer node per member, loaded in bulk.

Every alert is valid CAP 1.2 as the alert kind checks it. Alert number `n` is the same for the same seed whichever
process makes it, so loader processes split the numbers between them (n % loaders) and make their own share.

* issuers: the ten members and the Secretariat, each a peer node of the bench node (keys made here), an
  organisation and a few accounts of its own; a member issues alerts in its own language (zh, ru or en, sometimes
  with a second `<info>` in English);
* events: health (with an ICD-10 disease and counts), floods, earthquakes, storms, fires, chemical spills...; areas
  are polygons or circles near a region of the member;
* `sent`: spread over ten years; TLP and audience: TLP:CLEAR to everyone (scope Public), TLP:GREEN to everyone,
  TLP:AMBER to the issuer and one to three other members, a few AMBER+STRICT (organisations) and RED (persons);
* threads: about 6 % of the alerts get an Update, about 3 % are then cancelled (CAP Cancel, state withdrawn).

The load goes through `accord.records.ingest.ingest_many`, the path that stores a page of received versions: every
version is verified (signature, chain) and checked by its kind's rules (the CAP message validated against the XSD
and the CAP rules) before it is stored, projected and audited.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ISSUERS = ("CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY", "SCO")
_END = datetime(2026, 12, 1, tzinfo=UTC)
_TEN_YEARS = int(timedelta(days=3652).total_seconds())

# member: (language, [(region in its language, English name, lat, lon)])
_PLACES: dict[str, tuple[str, list[tuple[str, str, float, float]]]] = {
    "CN": (
        "zh-CN",
        [
            ("新疆维吾尔自治区喀什地区", "Kashgar", 39.47, 75.99),
            ("云南省西双版纳州", "Xishuangbanna", 22.0, 100.8),
            ("广东省广州市", "Guangzhou", 23.13, 113.26),
            ("四川省成都市", "Chengdu", 30.66, 104.06),
            ("黑龙江省哈尔滨市", "Harbin", 45.8, 126.53),
        ],
    ),
    "RU": (
        "ru-RU",
        [
            ("Приморский край", "Primorsky Krai", 43.12, 131.9),
            ("Астраханская область", "Astrakhan Oblast", 46.35, 48.04),
            ("Новосибирская область", "Novosibirsk Oblast", 55.03, 82.92),
            ("Республика Дагестан", "Dagestan", 42.98, 47.5),
        ],
    ),
    "IN": (
        "en-IN",
        [("Kerala", "Kerala", 10.0, 76.3), ("Assam", "Assam", 26.2, 92.9), ("Gujarat", "Gujarat", 22.3, 71.2)],
    ),
    "PK": (
        "en-PK",
        [("Sindh", "Sindh", 25.9, 68.5), ("Punjab", "Punjab", 31.2, 72.7), ("Balochistan", "Balochistan", 28.5, 65.1)],
    ),
    "IR": ("en-IR", [("Khuzestan", "Khuzestan", 31.3, 48.7), ("Sistan and Baluchestan", "Sistan", 27.5, 60.6)]),
    "KZ": (
        "ru-KZ",
        [
            ("Туркестанская область", "Turkistan region", 43.3, 68.25),
            ("Алматинская область", "Almaty region", 43.9, 77.9),
        ],
    ),
    "KG": ("ru-KG", [("Ошская область", "Osh region", 40.53, 72.8), ("Чуйская область", "Chuy region", 42.8, 74.6)]),
    "TJ": (
        "ru-TJ",
        [("Хатлонская область", "Khatlon region", 37.9, 68.8), ("Согдийская область", "Sughd region", 40.3, 69.6)],
    ),
    "UZ": (
        "ru-UZ",
        [("Ферганская область", "Fergana region", 40.4, 71.8), ("Хорезмская область", "Khorezm region", 41.5, 60.6)],
    ),
    "BY": (
        "ru-BY",
        [("Гомельская область", "Gomel region", 52.4, 30.98), ("Брестская область", "Brest region", 52.1, 23.7)],
    ),
    "SCO": ("en-US", [("SCO region", "SCO region", 43.2, 76.9)]),
}

# (category, English, Russian, Chinese, ICD-10 code or "")
_EVENTS = (
    ("Health", "Cholera outbreak", "Вспышка холеры", "霍乱疫情", "A00"),
    ("Health", "Avian influenza", "Птичий грипп", "禽流感", "J09"),
    ("Health", "Measles outbreak", "Вспышка кори", "麻疹疫情", "B05"),
    ("Health", "Plague case", "Случай чумы", "鼠疫病例", "A20"),
    ("Health", "Anthrax cases", "Случаи сибирской язвы", "炭疽病例", "A22"),
    (
        "Health",
        "Crimean-Congo haemorrhagic fever",
        "Крымская геморрагическая лихорадка",
        "克里米亚-刚果出血热",
        "A98.0",
    ),
    ("Health", "Dengue fever", "Лихорадка денге", "登革热", "A90"),
    ("Met", "Flood warning", "Угроза наводнения", "洪水预警", ""),
    ("Met", "Heat wave", "Аномальная жара", "高温热浪", ""),
    ("Met", "Dust storm", "Пыльная буря", "沙尘暴", ""),
    ("Geo", "Earthquake", "Землетрясение", "地震", ""),
    ("Geo", "Mudflow", "Сель", "泥石流", ""),
    ("Fire", "Wildfire", "Лесной пожар", "森林火灾", ""),
    ("CBRNE", "Chemical spill", "Химический разлив", "化学品泄漏", ""),
)
_SEVERITY = (("Extreme", 5), ("Severe", 20), ("Moderate", 40), ("Minor", 30), ("Unknown", 5))
_URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
_CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely")
# (tlp, weight): the audience follows from the label
_TLPS = (("CLEAR", 30), ("GREEN", 40), ("AMBER", 25), ("AMBER+STRICT", 3), ("RED", 2))

_TEXT = {
    "en": (
        "{event} in {place}",
        "{cases} cases reported in {place} since {day}; {deaths} deaths. Health and emergency services are responding; "
        "the population is advised to follow official instructions.",
        "Boil drinking water, avoid the affected area and report symptoms to the nearest clinic.",
    ),
    "ru": (
        "{event}: {place}",
        "В регионе {place} с {day} зарегистрировано {cases} случаев, {deaths} погибших. Службы здравоохранения и МЧС "
        "ведут работу; населению рекомендуется следовать официальным указаниям.",
        "Кипятите питьевую воду, избегайте пострадавшего района и сообщайте о симптомах в ближайшую поликлинику.",
    ),
    "zh": (
        "{place}发生{event}",
        "自{day}以来，{place}报告{cases}例，死亡{deaths}例。卫生和应急部门正在处置，请公众遵从官方指引。",
        "饮用开水，避开受影响地区，如有症状请到最近的医疗机构就诊。",
    ),
}


@dataclass(frozen=True)
class Issuer:
    """A peer node standing for one member (or the Secretariat)."""

    member: str
    node_id: str
    private_key: str  # base64 raw Ed25519, so loader processes can sign
    kid: str
    organisation: str
    accounts: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "accounts": list(self.accounts)}


def make_issuers(seed: int) -> list[Issuer]:
    """One issuer per member; keys from the seed, so a reused database and a new run agree."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from accord.lib import canonical

    rng = random.Random(seed)  # noqa: S311  (a fixed seed: the same keys every run)
    issuers = []
    for member in ISSUERS:
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        issuers.append(
            Issuer(
                member=member,
                node_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                private_key=base64.b64encode(raw).decode(),
                kid=canonical.key_id(canonical.public_key_b64(key)),
                organisation=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                accounts=tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3)),
            )
        )
    return issuers


def register_issuers(issuers: list[Issuer]) -> None:
    """Each issuer becomes a peer of this node (its member and key), through the federation action."""
    from accord.federation.actions import add_peer
    from accord.federation.models import Peer
    from accord.lib import canonical

    for issuer in issuers:
        if Peer.objects.filter(node_id=issuer.node_id).exists():
            continue
        add_peer(
            name=f"bench-{issuer.member.lower()}",
            node_id=issuer.node_id,
            public_key=canonical.public_key_b64(_key(issuer)),
            member=issuer.member,
            acting_user=None,
        )


def _key(issuer: Issuer) -> Any:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(issuer.private_key))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _cap_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _area(rng: random.Random, lat: float, lon: float, desc: str) -> dict[str, Any]:
    lat += rng.uniform(-1.0, 1.0)
    lon += rng.uniform(-1.0, 1.0)
    if rng.random() < 0.3:
        return {"areaDesc": desc, "circle": [f"{lat:.3f},{lon:.3f} {rng.uniform(5, 80):.1f}"]}
    d = rng.uniform(0.1, 0.8)
    ring = [(lat - d, lon - d), (lat - d, lon + d), (lat + d, lon + d), (lat + d, lon - d), (lat - d, lon - d)]
    return {"areaDesc": desc, "polygon": [" ".join(f"{a:.3f},{b:.3f}" for a, b in ring)]}


def _info(
    language: str, event: tuple[str, str, str, str, str], place: str, numbers: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    lang = language[:2]
    name = {"en": event[1], "ru": event[2], "zh": event[3]}[lang]
    headline, description, instruction = (t.format(event=name, place=place, **numbers) for t in _TEXT[lang])
    return {
        "language": language,
        "category": [event[0]],
        "event": name,
        "urgency": kw["urgency"],
        "severity": kw["severity"],
        "certainty": kw["certainty"],
        "senderName": kw["sender_name"],
        "headline": headline[:160],
        "description": description,
        "instruction": instruction,
        "area": [kw["area"]],
    }


def versions_of(n: int, seed: int, issuers: list[Issuer]) -> list[tuple[bytes, str, str]]:
    """The signed versions (canonical bytes, signature, kid) of alert number `n`: its Alert, maybe an Update and a
    Cancel, in seq order."""
    from accord.alerts.mapping import scope_for
    from accord.lib import canonical
    from accord.records.envelope import Audience, build_envelope, encode

    rng = random.Random(seed * 1_000_003 + n)  # noqa: S311  (reproducible data, not secrets)
    issuer = issuers[n % len(issuers)] if rng.random() < 0.5 else rng.choice(issuers)
    language, places = _PLACES[issuer.member]
    region, english_place, lat, lon = rng.choice(places)
    event = rng.choice(_EVENTS)
    tlp = _weighted(rng, _TLPS)
    others = [m for m in ISSUERS if m != issuer.member]
    if tlp in ("CLEAR", "GREEN"):
        audience = Audience(everyone=True)
    elif tlp == "AMBER":
        audience = Audience(members=sorted({issuer.member, *rng.sample(others, rng.randint(1, 3))}))
    elif tlp == "AMBER+STRICT":
        audience = Audience(organisations=[uuid.UUID(issuer.organisation)])
    else:
        audience = Audience(persons=[uuid.UUID(rng.choice(issuer.accounts))])
    sent = _END - timedelta(seconds=rng.randrange(_TEN_YEARS))
    numbers: dict[str, Any] = {
        "cases": rng.randint(1, 900),
        "deaths": rng.randint(0, 20),
        "day": sent.strftime("%Y-%m-%d"),
    }
    common = {
        "urgency": rng.choice(_URGENCY),
        "severity": _weighted(rng, _SEVERITY),
        "certainty": rng.choice(_CERTAINTY),
        "sender_name": f"{issuer.member} emergency and health services",
        "area": _area(rng, lat, lon, region),
    }
    infos = [_info(language, event, region, numbers, **common)]
    if not language.startswith("en") and rng.random() < 0.3:
        infos.append(_info("en-US", event, english_place, numbers, **common))
    scope = {k: v for k, v in scope_for(audience, tlp).items() if k != "note_tlp"}
    sender = f"alerts@{issuer.member.lower()}.sco.example"
    record = uuid.UUID(int=rng.getrandbits(128), version=4)
    account = rng.choice(issuer.accounts)
    epidemic = (
        {
            "disease": {"system": "ICD-10", "code": event[4], "name": event[1]},
            "cases": numbers["cases"],
            "deaths": numbers["deaths"],
        }
        if event[4]
        else None
    )
    messages: list[tuple[str, dict[str, Any]]] = []
    first = {
        "identifier": f"{issuer.member}-{n}",
        "sender": sender,
        "sent": _cap_time(sent),
        "status": "Actual",
        "msgType": "Alert",
        **scope,
        "info": infos,
    }
    messages.append(("active", first))
    roll = rng.random()
    previous = first
    if roll < 0.06:
        later = sent + timedelta(hours=rng.randint(1, 72))
        numbers = {**numbers, "cases": numbers["cases"] + rng.randint(1, 300)}
        update = {
            **first,
            "identifier": f"{issuer.member}-{n}-u",
            "sent": _cap_time(later),
            "msgType": "Update",
            "references": [f"{sender},{first['identifier']},{first['sent']}"],
            "info": [_info(i["language"], event, i["area"][0]["areaDesc"], numbers, **common) for i in infos],
        }
        messages.append(("active", update))
        previous = update
        if epidemic is not None:
            epidemic = {**epidemic, "cases": numbers["cases"]}
    if roll < 0.03:
        later = datetime.fromisoformat(previous["sent"]) + timedelta(hours=rng.randint(1, 48))
        cancel = {
            **{k: v for k, v in previous.items() if k != "info"},
            "identifier": f"{issuer.member}-{n}-c",
            "sent": _cap_time(later),
            "msgType": "Cancel",
            "references": [f"{sender},{m['identifier']},{m['sent']}" for _, m in messages],
            "note": "cancelled: the event is over",
        }
        messages.append(("withdrawn", cancel))
    key = _key(issuer)
    out = []
    prev_hash = None
    for seq, (state, cap) in enumerate(messages, start=1):
        body: dict[str, Any] = {"cap": cap}
        if epidemic is not None and state == "active":
            body["epidemic"] = epidemic
        envelope = build_envelope(
            kind="alert",
            origin={
                "node": issuer.node_id,
                "member": issuer.member,
                "organisation": issuer.organisation,
                "account": account,
            },
            record=record,
            seq=seq,
            prev_hash=prev_hash,
            status="actual",
            state=state,
            audience=audience,
            tlp=tlp,
            body=body,
            attachments=[],
            created_at=cap["sent"].replace("+00:00", "Z"),
        )
        data, digest = encode(envelope)
        out.append((data, canonical.sign(key, data), issuer.kid))
        prev_hash = digest
    return out


def load(numbers: range, seed: int, issuers: list[Issuer], *, page: int = 500, report: Any = None) -> dict[str, int]:
    """Store the alerts numbered `numbers` through `ingest_many`, a page at a time; counts of the outcomes."""
    from django.db import close_old_connections

    from accord.records.ingest import Incoming, ingest_many

    counts = {"stored": 0, "duplicate": 0, "quarantined": 0, "refused": 0}
    batch: list[Incoming] = []

    def flush() -> None:
        for result in ingest_many(batch, source="bench"):
            if isinstance(result, Exception):
                counts["refused"] += 1
                if counts["refused"] <= 3:
                    print(f"refused: {result}", flush=True)
            else:
                counts[result.outcome] += 1
        batch.clear()
        close_old_connections()
        if report is not None:
            report(counts)

    for n in numbers:
        batch.extend(Incoming(data, sig, kid) for data, sig, kid in versions_of(n, seed, issuers))
        if len(batch) >= page:
            flush()
    if batch:
        flush()
    return counts


def issuers_json(issuers: list[Issuer]) -> str:
    return json.dumps([i.as_json() for i in issuers])


def issuers_from_json(text: str) -> list[Issuer]:
    return [Issuer(**{**item, "accounts": tuple(item["accounts"])}) for item in json.loads(text)]


# ---- running the load: `python bench/scale_data.py` (bench/api_scale.py calls `load_database`) ------------------


def _part(args: Any) -> int:
    """One loader process: alerts number part, part + loaders, part + 2 * loaders... below count."""
    import os
    import sys
    import time

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    issuers = issuers_from_json(sys.stdin.read())
    started = time.monotonic()
    shown = [started]

    def report(counts: dict[str, int]) -> None:
        now = time.monotonic()
        if now - shown[0] >= 30:
            shown[0] = now
            done = sum(counts.values())
            print(f"loader {args.part}: {json.dumps(counts)} ({done / (now - started):.0f} versions/s)", flush=True)

    counts = load(range(args.start + args.part, args.count, args.loaders), args.seed, issuers, report=report)
    print(f"loader {args.part} done: {json.dumps(counts)} in {time.monotonic() - started:.0f} s", flush=True)
    return 0 if counts["refused"] == 0 and counts["quarantined"] == 0 else 1


def load_database(env: dict[str, str], *, count: int, seed: int, loaders: int, start: int = 0) -> tuple[float, int]:
    """Load alerts [start, count) into the database of `env` with `loaders` processes; (seconds, failures)."""
    import os
    import subprocess
    import sys
    import time

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    issuers = make_issuers(seed)
    register_issuers(issuers)
    from django.db import connections

    connections.close_all()
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--part",
                str(k),
                "--loaders",
                str(loaders),
                "--count",
                str(count),
                "--seed",
                str(seed),
                "--start",
                str(start),
            ],
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            text=True,
        )
        for k in range(loaders)
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(issuers_json(issuers))
        process.stdin.close()
    failures = sum(1 for process in processes if process.wait() != 0)
    return time.monotonic() - started, failures


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--part", type=int, required=True)
    parser.add_argument("--loaders", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--start", type=int, default=0)
    sys.exit(_part(parser.parse_args()))
