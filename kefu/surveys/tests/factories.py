"""Survey fixtures built through the services."""

from __future__ import annotations

from datetime import date

from kefu.org.models import Department, Staff
from kefu.surveys.models import Batch, Questionnaire
from kefu.surveys.services import batch_create, parse_items, questionnaire_create

ITEMS = """满意度|物业服务整体满意度|客服部|权重2
满意度|维修及时性|工程部|权重1
单选|居住年限|||1年以下=1;1-3年=3;3年以上=5
多选|希望增加的服务|||家政;代购;洗车
填空|其他意见和建议"""


def make_questionnaire(actor: Staff, text: str = ITEMS, **kwargs: object) -> Questionnaire:
    Department.objects.get_or_create(name="客服部", defaults={"kind": "service"})
    Department.objects.get_or_create(name="工程部", defaults={"kind": "engineering"})
    return questionnaire_create(title="2026年业主满意度调查", items=parse_items(text), actor=actor, **kwargs)  # type: ignore[arg-type]


def make_batch(world, questionnaire: Questionnaire | None = None, **kwargs: object) -> Batch:  # type: ignore[no-untyped-def]
    q = questionnaire or make_questionnaire(world.supervisor)
    params: dict[str, object] = {
        "questionnaire": q,
        "site": world.site,
        "name": "2026年四季度调查",
        "starts_on": date(2026, 11, 1),
        "ends_on": date(2026, 11, 30),
        "target": "building",
        "buildings": ["1"],
        "actor": world.supervisor,
    }
    params.update(kwargs)
    return batch_create(**params)  # type: ignore[arg-type]
