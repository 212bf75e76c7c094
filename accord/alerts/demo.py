"""The demo's alerts (`accord demo`): two actual alerts whose acknowledgements are on the members' desks.

* Kazakhstan's health ministry: cholera in the Turkistan region (Kazakh, Russian and English; its area is a polygon
  and the region's ISO 3166-2 code, KZ-61), to Kyrgyzstan, Uzbekistan, China and the Secretariat at TLP:AMBER,
  Severe, with its case counts: acknowledgements due within 4 hours.
* China's emergency ministry: flooding around Kashgar (Chinese and English), a CAP message sent 30 hours before
  the demo was loaded, to everyone: the 24-hour acknowledgement deadline of a Moderate alert has passed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accord.alerts import actions
from accord.members.models import Account
from accord.records.envelope import Audience

CHOLERA = {"disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"}, "cases": 34, "deaths": 1}
TURKISTAN = "42.2,67.9 43.9,67.9 43.9,70.2 42.2,70.2 42.2,67.9"


def _info(language: str, *texts: str) -> dict[str, object]:
    event, headline, description, instruction, area = texts
    return {
        "language": language,
        "category": ["Health"],
        "event": event,
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "headline": headline,
        "description": description,
        "instruction": instruction,
        "area": [{"areaDesc": area, "polygon": [TURKISTAN], "geocode": [{"valueName": "ISO3166-2", "value": "KZ-61"}]}],
    }


def _flood_xml(sent: datetime) -> bytes:
    def cap_time(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    blocks = []
    for language, event, headline, description, area in (
        ("zh-CN", "洪水", "喀什地区暴雨洪水", "叶尔羌河水位超过警戒线，沿岸两个乡镇已疏散。", "喀什地区"),
        (
            "en-US",
            "Flood",
            "Flooding in the Kashgar prefecture",
            "The Yarkand river is above its alert level; two townships along its banks were evacuated.",
            "Kashgar prefecture",
        ),
    ):
        blocks.append(
            f"""<info><language>{language}</language><category>Met</category><event>{event}</event>
<urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
<expires>{cap_time(sent + timedelta(days=5))}</expires><headline>{headline}</headline>
<description>{description}</description><area><areaDesc>{area}</areaDesc><circle>39.47,75.99 60</circle></area>
</info>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>CN-MEM-DEMO-{sent:%Y%m%d%H%M}</identifier>
<sender>demo@mem.gov.cn.invalid</sender><sent>{cap_time(sent)}</sent><status>Actual</status><msgType>Alert</msgType>
<scope>Public</scope>{"".join(blocks)}</alert>""".encode()


def load_alerts() -> int:
    """Publish the demo's alerts when none exists yet; the number of records created."""
    from accord.alerts.models import AlertView

    if AlertView.objects.exists():
        return 0
    kz = Account.objects.get(username="kz.health")
    cn = Account.objects.get(username="cn.emergency")
    actions.publish_alert(
        {
            "info": [
                _info(
                    "ru-RU",
                    "Вспышка холеры",
                    "Холера в Туркестанской области",
                    "Подтверждено 34 случая холеры, 1 смерть. Источник — оросительный канал у Сарыагаша.",
                    "Усилить санитарный контроль на пунктах пропуска через границу.",
                    "Туркестанская область",
                ),
                _info(
                    "en-US",
                    "Cholera outbreak",
                    "Cholera in the Turkistan region",
                    "34 confirmed cases of cholera, 1 death. The source is an irrigation canal near Saryagash.",
                    "Strengthen sanitary control at the border crossings.",
                    "Turkistan region",
                ),
                _info(
                    "kk-KZ",
                    "Тырысқақ індеті",
                    "Түркістан облысындағы тырысқақ",
                    "Тырысқақтың 34 жағдайы расталды, 1 адам қайтыс болды. Көзі — Сарыағаш маңындағы суару арнасы.",
                    "Шекарадан өткізу бекеттерінде санитарлық бақылауды күшейту.",
                    "Түркістан облысы",
                ),
            ]
        },
        audience=Audience(members=["KG", "UZ", "CN", "SCO"]),
        tlp="AMBER",
        acting_user=kz,
        epidemic=CHOLERA,
    )
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    actions.import_alert(_flood_xml(sent), acting_user=cn, audience=Audience(everyone=True), tlp="GREEN")
    return 2
