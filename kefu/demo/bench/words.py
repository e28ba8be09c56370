"""What the benchmark's tickets say: the demo's texts (``kefu.demo.texts``), with who called
and from where in front, a detail or two behind, and the short notes staff leave on every
step. Names, addresses, phone numbers and the typical phrases of each category all end up
in the content, so that a full-text search finds something and not everything."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from kefu.tickets.models import Channel

from .. import data, texts


@dataclass(frozen=True)
class Template:
    text: str  # without the leading "!"
    urgent: bool
    fields: tuple[str, ...]


def templates(raw: list[str]) -> tuple[Template, ...]:
    found = []
    for item in raw:
        fields = tuple(sorted({name for _, name, _, _ in string.Formatter().parse(item) if name}))
        found.append(Template(item.lstrip("!"), item.startswith("!"), fields))
    return tuple(found)


def patrol_templates(raw: list[str], leaf: str) -> tuple[Template, ...]:
    """What a patrol can find: nothing in anyone's home."""
    kept = [t for t in raw if not any(w in t for w in ("{unit}", "{home}", "我"))]
    return templates(kept or [f"{{area}}{leaf}设施损坏，需维修。"])


# Who is speaking, by channel; {who} is the caller as the agent writes them down.
OPENERS: dict[str, tuple[str, ...]] = {
    Channel.PHONE: ("{who}来电：", "{who}来电反映：", "{who}来电称", "接{who}电话："),
    Channel.VISIT: ("{who}到客服中心反映：", "{who}到前台反映：", "{who}来访："),
    Channel.WECHAT: ("{who}微信留言：", "{who}通过公众号反映："),
    Channel.APP: ("{who}在App上报事：", "{who}App留言："),
    Channel.WEB: ("{who}网上报事：",),
    Channel.EMAIL: ("{who}来函：", "{who}发邮件反映："),
}
# A detail the caller adds.
DETAILS = (
    "联系电话{phone}。",
    "{time}家里有人，可以上门。",
    "这是第二次反映了，上次没有解决。",
    "家里有老人和小孩，请尽快处理。",
    "上门前请先打电话，联系人{name}。",
    "邻居家也有同样的问题。",
    "希望物业重视，给个处理时间。",
    "已经拍了照片，可以发给师傅看。",
    "请处理好后电话告知{name}。",
)
# The notes staff write on the steps the demo leaves bare.
ACCEPT_NOTES = ("已接单，马上出发", "已接单，预计半小时内到场", "收到，正在前往现场", "已接单，先与客户电话联系", "")
ARRIVE_NOTES = ("已到达现场，正在检查", "到场，客户在家，开始检修", "已到现场查看故障原因", "到场，需先关闭总阀", "")
START_NOTES = ("开始处理，已联系相关人员", "已安排专人跟进", "开始核实情况", "")
CONFIRM_NOTES = ("客户确认问题已解决", "客户现场签字确认", "客户表示满意，同意结单", "")
CLOSE_NOTES = ("已办结，关闭工单", "客户无异议，关闭工单", "回访完毕，关闭工单", "处理完毕，归档", "")
REWORK_REASON = "回访不满意，重新派单处理"
VISIT_LABELS = {"satisfied": "满意", "ordinary": "一般", "dissatisfied": "不满意"}


def plate(rng: random.Random) -> str:
    return "京" + rng.choice("ABCEFGHJKLMNPQ") + "".join(rng.choice("0123456789ABCDEFGHJK") for _ in range(5))


def fill(
    rng: random.Random,
    template: Template,
    *,
    office: bool,
    unit: str,
    building: str,
    floor: int,
    staff: str,
    patrol: bool,
) -> str:
    """``template`` with its placeholders filled, as the demo's planner fills them."""
    kind = "office" if office else "residential"
    values: dict[str, str] = {}
    for name in template.fields:
        if name == "when":
            values[name] = rng.choice(texts.WHEN)
        elif name == "please":
            values[name] = "请安排维修。" if patrol else rng.choice(texts.PLEASE)
        elif name == "home":
            values[name] = rng.choice(texts.HOME[kind])
        elif name == "unit":
            values[name] = unit
        elif name == "bld":
            values[name] = f"{building}座" if office else f"{building}号楼"
        elif name == "area":
            values[name] = rng.choice(texts.AREAS[kind])
        elif name == "floor":
            values[name] = f"{floor}层" if office else f"{floor}楼"
        elif name == "time":
            values[name] = rng.choice(texts.TIMES)
        elif name == "item":
            values[name] = rng.choice(texts.ITEMS)
        elif name == "plate":
            values[name] = plate(rng)
        elif name == "staff":
            values[name] = staff
    return template.text.format_map(values)


def dress(rng: random.Random, body: str, *, channel: str, who: str, name: str, phone: str) -> str:
    """The body with an opener naming the caller (and their address) and, sometimes, a
    detail behind it."""
    openers = OPENERS.get(channel)
    if openers and who and rng.random() < 0.55:
        body = rng.choice(openers).format(who=who) + body
    if rng.random() < 0.3:
        body += rng.choice(DETAILS).format(phone=phone or "未留", time=rng.choice(texts.TIMES), name=name or "客户")
    return body


def praised(rng: random.Random, leaf: str, technicians: list[str], desk: list[str]) -> str:
    """Who a praise names: the demo's way (a 师傅 by surname, an agent by name)."""
    if leaf == "维修表扬" and technicians:
        return rng.choice(technicians)[0] + "师傅"
    if leaf == "客服表扬" and desk:
        return rng.choice(desk)
    surname = rng.choice(data.SURNAMES[:40])
    return surname + ("阿姨" if leaf == "保洁表扬" else rng.choice(("师傅", "队长")))
