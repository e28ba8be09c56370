"""The demo company: its two sites, its staff roster, and the word lists customers are
drawn from. Plain data, no database."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.org.models import Role, Site

PASSWORD = "kefu12345"
SEED = 20240601


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    kind: str
    address: str
    phone: str


RESIDENTIAL = SiteSpec("CH", "翠湖花园", Site.Kind.RESIDENTIAL, "北京市海淀区翠湖南路18号", "010-62881234")
OFFICE = SiteSpec("GM", "国贸中心写字楼", Site.Kind.OFFICE, "北京市朝阳区建国门外大街1号", "010-65051234")
SITES = [RESIDENTIAL, OFFICE]

# 翠湖花园: buildings 1–12, entrances 1–3, floors 1–18, two flats per floor per entrance.
ESTATE_BUILDINGS = 12
ESTATE_ENTRANCES = 3
ESTATE_FLOORS = 18
ESTATE_FLAT_AREAS = (89, 108, 126, 143)
# 国贸中心: towers A and B, floors 3–28, twelve offices per floor, no entrances.
OFFICE_TOWERS = ("A", "B")
OFFICE_FLOORS = range(3, 29)
OFFICE_ROOMS_PER_FLOOR = 12


@dataclass(frozen=True)
class Person:
    """One demo staff member. ``superior`` is another roster username."""

    username: str
    name: str
    role: str
    department: str
    sites: tuple[str, ...]
    skills: tuple[str, ...] = ()
    superior: str = ""
    title: str = ""


_SVC, _ENG, _SEC, _ENV, _FIN = "客服部", "工程部", "秩序维护部", "环境部", "财务部"
_CH, _GM, _BOTH = ("CH",), ("GM",), ("CH", "GM")

ROSTER: list[Person] = [
    Person("director", "周建华", Role.DIRECTOR, _SVC, _BOTH, title="客服总监"),
    Person("manager", "李秀英", Role.MANAGER, _SVC, _CH, superior="director", title="翠湖花园客服经理"),
    Person("manager2", "陈志强", Role.MANAGER, _SVC, _GM, superior="director", title="国贸中心客服经理"),
    Person("supervisor", "刘晓燕", Role.SUPERVISOR, _SVC, _CH, superior="manager", title="客服主管"),
    Person("supervisor2", "黄俊杰", Role.SUPERVISOR, _SVC, _GM, superior="manager2", title="客服主管"),
    Person("agent", "王芳", Role.AGENT, _SVC, _CH, superior="supervisor", title="房管专员"),
    Person("agent2", "张丽娟", Role.AGENT, _SVC, _CH, superior="supervisor", title="房管专员"),
    Person("agent3", "赵敏", Role.AGENT, _SVC, _CH, superior="supervisor", title="客服专员"),
    Person("agent4", "孙婷婷", Role.AGENT, _SVC, _GM, superior="supervisor2", title="客服专员"),
    Person("agent5", "吴佳怡", Role.AGENT, _SVC, _GM, superior="supervisor2", title="客服专员"),
    Person("frontdesk", "郑雪", Role.FRONTDESK, _SVC, _CH, superior="supervisor", title="客服前台"),
    Person("frontdesk2", "林静", Role.FRONTDESK, _SVC, _GM, superior="supervisor2", title="客服前台"),
    Person("tech", "王强", Role.TECHNICIAN, _ENG, _CH, ("水电", "门窗"), "manager", "工程组长"),
    Person("tech2", "李明", Role.TECHNICIAN, _ENG, _CH, ("电梯", "弱电"), "tech", "电梯维保员"),
    Person("tech3", "张伟", Role.TECHNICIAN, _ENG, _CH, ("水电", "空调"), "tech", "维修工"),
    Person("tech4", "刘洋", Role.TECHNICIAN, _ENG, _CH, ("土建", "门窗", "消防"), "tech", "维修工"),
    Person("tech5", "杨帆", Role.TECHNICIAN, _ENG, _CH, ("水电", "弱电"), "tech", "维修工"),
    Person("tech6", "马国栋", Role.TECHNICIAN, _ENG, _GM, ("空调", "水电", "消防"), "manager2", "工程组长"),
    Person("tech7", "胡海涛", Role.TECHNICIAN, _ENG, _GM, ("电梯", "弱电", "土建", "门窗"), "tech6", "维修工"),
    Person("dept", "何军", Role.DEPT_STAFF, _SEC, _CH, ("安防",), "manager", "秩序维护队长"),
    Person("dept2", "高鹏", Role.DEPT_STAFF, _SEC, _GM, ("安防",), "manager2", "秩序维护队长"),
    Person("dept3", "罗春梅", Role.DEPT_STAFF, _ENV, _CH, ("保洁", "绿化"), "manager", "环境主管"),
    Person("dept4", "梁玉兰", Role.DEPT_STAFF, _ENV, _GM, ("保洁",), "manager2", "保洁领班"),
    Person("dept5", "宋雅琴", Role.DEPT_STAFF, _FIN, _BOTH, (), "director", "收费员"),
    Person("admin", "谢宇", Role.ADMIN, "", _BOTH, title="系统管理员"),
]

EMPLOYEE_PREFIX = {_SVC: "KF", _ENG: "GC", _SEC: "ZX", _ENV: "HJ", _FIN: "CW", "": "XT"}

# The account shown for each role at the end of ``kefu demo``.
ROLE_ACCOUNTS: list[str] = ["director", "manager", "supervisor", "agent", "frontdesk", "tech", "dept", "admin"]

# Common surnames, most frequent first (the builder weights by position).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MALE_GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁浩凯健俊帆帅旭宇晨建国志文博昊天晓东海峰立新永春"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀英华慧巧美淑玉萍红玲桂兰月莉雪琳婷倩颖佳怡欣悦雯晶璐瑶琪梦雅露丹宁"

COMPANY_BRANDS = [
    ("华信", "huaxin"),
    ("中联", "zhonglian"),
    ("恒远", "hengyuan"),
    ("博睿", "borui"),
    ("鼎盛", "dingsheng"),
    ("天合", "tianhe"),
    ("金诚", "jincheng"),
    ("汇通", "huitong"),
    ("远景", "yuanjing"),
    ("启明", "qiming"),
    ("睿思", "ruisi"),
    ("凯德", "kaide"),
    ("嘉禾", "jiahe"),
    ("新锐", "xinrui"),
    ("恒信", "hengxin"),
    ("星辰", "xingchen"),
    ("云帆", "yunfan"),
    ("泰和", "taihe"),
    ("君达", "junda"),
    ("安盛", "ansheng"),
]
COMPANY_TRADES = [
    "科技有限公司",
    "信息技术有限公司",
    "管理咨询有限公司",
    "律师事务所",
    "投资管理有限公司",
    "文化传媒有限公司",
    "国际贸易有限公司",
    "会计师事务所",
    "网络科技有限公司",
    "建筑设计有限公司",
]

CUSTOMER_NOTES = [
    "家中有老人，上门前请提前电话联系",
    "工作日白天家中无人，请晚上联系",
    "业主在外地，由家属代为联系",
    "房屋正在装修",
    "对服务要求较高，回访请由主管负责",
    "有一只大型犬，上门请注意",
    "业委会成员",
    "习惯微信沟通",
]
COMPANY_NOTES = [
    "前台电话即可联系行政",
    "周末加班较多，空调需延时开放",
    "发票请开具增值税专用发票",
    "行政负责人变更后请及时更新联系人",
]

MOBILE_PREFIXES = [
    *("130", "131", "132", "133", "135", "136", "137", "138", "139"),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159", "166"),
    *("173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189"),
    *("191", "198", "199"),
]
