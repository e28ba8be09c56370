"""Reference data every install needs: departments, skills, customer tags, the category
tree with its dispatch rules, and the time limits (SLA) per kind × urgency.

``seed_reference_data()`` only adds what is missing: rows an administrator already has
(matched by name, or by kind × urgency) are left exactly as they are, so it can run on
every ``kefu demo``, in a data migration or in ``kefu setup`` without undoing anyone's
configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction

from kefu.customers.models import Tag
from kefu.org.models import Department, Skill
from kefu.tickets.lifecycle import Kind
from kefu.tickets.models import Category, SlaPolicy, Urgency

DEPARTMENTS: list[tuple[str, str]] = [
    ("客服部", Department.Kind.SERVICE),
    ("工程部", Department.Kind.ENGINEERING),
    ("秩序维护部", Department.Kind.SECURITY),
    ("环境部", Department.Kind.ENVIRONMENT),
    ("财务部", Department.Kind.FINANCE),
]

SKILLS: list[str] = ["水电", "电梯", "门窗", "空调", "弱电", "土建", "消防", "保洁", "绿化", "安防"]

TAGS: list[tuple[str, str]] = [("VIP", "danger"), ("会员", "primary"), ("大客户", "warning")]

T = TypeVar("T")

R, C, Q, H, S, P = Kind.REPAIR, Kind.COMPLAINT, Kind.INQUIRY, Kind.HELP, Kind.SUGGESTION, Kind.PRAISE


@dataclass(frozen=True)
class Node:
    """One category: its name, the kinds it applies to, and its dispatch rule."""

    name: str
    kinds: tuple[str, ...]
    department: str
    skill: str = ""
    children: tuple[Node, ...] = field(default=())


def _leaves(kinds: tuple[str, ...], rows: list[tuple[str, str, str]]) -> tuple[Node, ...]:
    return tuple(Node(name, kinds, department, skill) for name, department, skill in rows)


# Complaints of these classes are major (重大投诉) whatever else is said of them.
MAJOR_CATEGORIES = frozenset({"安全管理"})

# The tree: 物业 categories first, then the after-sales ones (售后服务).
CATEGORY_TREE: list[Node] = [
    Node(
        "报修",
        (R,),
        "工程部",
        children=_leaves(
            (R,),
            [
                ("水电维修", "工程部", "水电"),
                ("给排水", "工程部", "水电"),
                ("电梯", "工程部", "电梯"),
                ("门窗", "工程部", "门窗"),
                ("空调", "工程部", "空调"),
                ("弱电门禁", "工程部", "弱电"),
                ("公共设施", "工程部", "土建"),
                ("房屋本体", "工程部", "土建"),
                ("消防设施", "工程部", "消防"),
            ],
        ),
    ),
    Node(
        "投诉",
        (C,),
        "客服部",
        children=_leaves(
            (C,),
            [
                ("服务态度", "客服部", ""),
                ("工程质量", "工程部", ""),
                ("维修时效", "工程部", ""),
                ("环境卫生", "环境部", ""),
                ("噪音扰民", "秩序维护部", ""),
                ("停车管理", "秩序维护部", ""),
                ("安全管理", "秩序维护部", ""),
                ("收费争议", "财务部", ""),
            ],
        ),
    ),
    Node(
        "咨询",
        (Q,),
        "客服部",
        children=_leaves(
            (Q,),
            [
                ("物业费", "财务部", ""),
                ("装修", "客服部", ""),
                ("停车", "秩序维护部", ""),
                ("入住", "客服部", ""),
                ("水电燃气", "客服部", ""),
                ("其他咨询", "客服部", ""),
            ],
        ),
    ),
    Node(
        "求助",
        (H,),
        "秩序维护部",
        children=_leaves(
            (H,),
            [
                ("紧急求助", "秩序维护部", ""),
                ("搬运协助", "秩序维护部", ""),
                ("寻物寻人", "秩序维护部", ""),
                ("便民服务", "客服部", ""),
            ],
        ),
    ),
    Node(
        "建议",
        (S,),
        "客服部",
        children=_leaves(
            (S,),
            [
                ("服务改进", "客服部", ""),
                ("设施完善", "工程部", ""),
                ("环境绿化", "环境部", ""),
                ("社区活动", "客服部", ""),
            ],
        ),
    ),
    Node(
        "表扬",
        (P,),
        "客服部",
        children=_leaves(
            (P,),
            [
                ("客服表扬", "客服部", ""),
                ("维修表扬", "工程部", ""),
                ("秩序表扬", "秩序维护部", ""),
                ("保洁表扬", "环境部", ""),
            ],
        ),
    ),
    Node(
        "售后服务",
        (R, C, Q),
        "客服部",
        children=(
            Node("产品质量", (R, C), "工程部", "土建"),
            Node("安装调试", (R,), "工程部", "弱电"),
            Node("退换货", (C, Q), "客服部"),
            Node("配送", (C, Q), "客服部"),
            Node("使用指导", (Q,), "客服部"),
        ),
    ),
]

# (respond, resolve) in minutes per kind × urgency: 一般 / 较急 / 紧急 / 特急.
# Repairs: the technician must be on site within this many minutes of receipt.
ARRIVE_MINUTES: dict[str, dict[str, int]] = {
    R: {Urgency.LOW: 240, Urgency.NORMAL: 120, Urgency.HIGH: 60, Urgency.CRITICAL: 30},
}
SLA_MINUTES: dict[str, dict[str, tuple[int, int]]] = {
    R: {
        Urgency.LOW: (60, 48 * 60),
        Urgency.NORMAL: (30, 24 * 60),
        Urgency.HIGH: (15, 4 * 60),
        Urgency.CRITICAL: (10, 2 * 60),
    },
    C: {
        Urgency.LOW: (120, 72 * 60),
        Urgency.NORMAL: (60, 48 * 60),
        Urgency.HIGH: (30, 24 * 60),
        Urgency.CRITICAL: (15, 8 * 60),
    },
    Q: {
        Urgency.LOW: (60, 24 * 60),
        Urgency.NORMAL: (30, 8 * 60),
        Urgency.HIGH: (15, 4 * 60),
        Urgency.CRITICAL: (10, 2 * 60),
    },
    H: {
        Urgency.LOW: (30, 8 * 60),
        Urgency.NORMAL: (15, 4 * 60),
        Urgency.HIGH: (10, 2 * 60),
        Urgency.CRITICAL: (5, 60),
    },
    S: {
        Urgency.LOW: (240, 7 * 24 * 60),
        Urgency.NORMAL: (120, 72 * 60),
        Urgency.HIGH: (60, 48 * 60),
        Urgency.CRITICAL: (30, 24 * 60),
    },
    P: {
        Urgency.LOW: (240, 72 * 60),
        Urgency.NORMAL: (240, 72 * 60),
        Urgency.HIGH: (120, 48 * 60),
        Urgency.CRITICAL: (120, 48 * 60),
    },
}


@dataclass
class Reference:
    """The reference rows by name, for builders that need them."""

    departments: dict[str, Department]
    skills: dict[str, Skill]
    tags: dict[str, Tag]
    categories: dict[str, Category]  # by path, e.g. "报修 / 水电维修"
    created: int = 0


def seed_reference_data() -> Reference:
    """Create the missing reference rows; return them all. Safe to run any number of times."""
    created: list[bool] = []

    def got(pair: tuple[T, bool]) -> T:
        created.append(pair[1])
        return pair[0]

    with transaction.atomic():
        departments = {
            name: got(Department.objects.get_or_create(name=name, defaults={"kind": kind}))
            for name, kind in DEPARTMENTS
        }
        skills = {name: got(Skill.objects.get_or_create(name=name)) for name in SKILLS}
        tags = {name: got(Tag.objects.get_or_create(name=name, defaults={"color": color})) for name, color in TAGS}
        categories: dict[str, Category] = {}

        def add(node: Node, parent: Category | None, sort: int) -> None:
            defaults = {
                "kinds": list(node.kinds),
                "department": departments[node.department],
                "skill": skills[node.skill] if node.skill else None,
                "sort": sort,
                "is_major": node.name in MAJOR_CATEGORIES,
            }
            category = got(Category.objects.get_or_create(parent=parent, name=node.name, defaults=defaults))
            categories[category.path] = category
            for index, child in enumerate(node.children, start=1):
                add(child, category, sort * 100 + index)

        for index, root in enumerate(CATEGORY_TREE, start=1):
            add(root, None, index)
        for kind, rows in SLA_MINUTES.items():
            for urgency, (respond, resolve) in rows.items():
                defaults = {
                    "respond_minutes": respond,
                    "resolve_minutes": resolve,
                    "arrive_minutes": ARRIVE_MINUTES.get(kind, {}).get(urgency),
                }
                got(SlaPolicy.objects.get_or_create(site=None, kind=kind, urgency=urgency, defaults=defaults))
    return Reference(departments, skills, tags, categories, created=sum(created))
