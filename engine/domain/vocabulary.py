"""The programme's vocabulary: roles, tiers, statuses and the enumerations forms and rules share."""

from __future__ import annotations

# Role code -> (Chinese label, English label). BPMN lanes are named by code or by Chinese label.
ROLES: dict[str, tuple[str, str]] = {
    "registrar": ("助企干部", "Registrar"),
    "dispatcher": ("企业服务办公室", "Dispatcher"),
    "handler": ("承办单位", "Handler"),
    "leader": ("市领导", "Leader"),
    "supervisor": ("督查", "Supervisor"),
    "manager": ("活动办", "Manager"),
    "designer": ("流程设计", "Designer"),
    "admin": ("系统管理员", "Administrator"),
}

LANE_TO_ROLE: dict[str, str] = {code: code for code in ROLES} | {
    zh: code for code, (zh, _en) in ROLES.items()
}

# The escalation ladder, lowest first.
TIERS: dict[str, tuple[str, str]] = {
    "on_site": ("当场办", "On the spot"),
    "department": ("部门办", "Department"),
    "city_leader": ("市领导办", "City leader"),
    "province": ("省级协调", "Province"),
}

# Time-limit flags (红黄绿旗): green = on time, yellow = due soon, red = overdue.
FLAGS = ("green", "yellow", "red", "black")  # black: seriously overdue (the supervision table says when)

# Case status: where the case stands, kept on the case row for lists and search.
CASE_STATUSES: dict[str, tuple[str, str]] = {
    "registered": ("已登记", "Registered"),  # triaged, not yet dispatched
    "on_site": ("当场办理中", "Being resolved on the spot"),
    "dispatching": ("待派单", "Awaiting dispatch"),
    "coordinating": ("领导协调中", "Leader coordinating"),
    "signing": ("待签收", "Awaiting sign-for"),
    "handling": ("办理中", "Being handled"),
    "verifying": ("待审核", "Feedback under verification"),
    "revisiting": ("待回访", "Awaiting revisit"),
    "closing": ("待销号", "Awaiting close-out"),
    "closed": ("已销号", "Closed out"),
}

CHANNELS = [
    "走访",
    "电话",
    "微信群",
    "12345热线",
    "政企直通车",
    "小程序",
    "窗口",
    "座谈会",
    "督查",
    "网上申报",
    "Open311",
]
FIELDS = ["工业", "三产", "建筑业", "重点项目"]
CATEGORIES = [
    "用地",
    "融资",
    "用工/人才",
    "水电气",
    "审批/证照",
    "基础设施",
    "政策兑现",
    "政策咨询",
    "环保",
    "安全生产",
    "交通物流",
    "市场/销路",
    "其他",
]
URGENCIES = ["一般", "紧急", "特急", "重大"]

# Enterprise size classes (企业规模). A fixed vocabulary, not an office's list: 规上 / 限上 are the National Bureau
# of Statistics' classes (规模以上工业企业 and the like: main business revenue of 20 million yuan a year or more;
# 限额以上批发零售住宿餐饮: wholesale 20 million, retail 5 million, hotels and catering 2 million) that every
# statistics return, every office and every year uses alike; 规下 is everything below. An office cannot add a
# class of its own without its figures ceasing to compare with the statistics bureau's, so they live here.
SIZE_CLASSES = ["规上", "限上", "规下"]

# Sectors (行业): the 20 sections (门类) of the national industry classification GB/T 4754-2017, a national
# standard like the size classes, so also fixed. Stored as the section letter.
SECTORS: dict[str, tuple[str, str]] = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information technology and software"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water, environment and public facilities"),
    "O": ("居民服务、修理和其他服务业", "Household, repair and other services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration and social organisations"),
    "T": ("国际组织", "International organisations"),
}

# Kinds of area (乡镇街道): the administrative division types, plus the development zones that offices treat as
# areas of their own (开发区, 科技城, 园区 with a management committee).
AREA_KINDS: dict[str, tuple[str, str]] = {
    "street": ("街道", "Sub-district"),
    "town": ("镇", "Town"),
    "township": ("乡", "Township"),
    "zone": ("园区/开发区", "Development zone"),
}

# Kinds of enterprise tag: a pool (企业库: 重点企业库, 潜力企业库, 挂牌服务 …, entered and left on a date, maybe in
# batches) or a plain tag (专精特新, 高新技术企业 …). Which tags exist is the office's data (enterprise_tag).
TAG_KINDS: dict[str, tuple[str, str]] = {
    "pool": ("企业库", "Pool"),
    "tag": ("标签", "Tag"),
}

CASE_STATUSES["in_progress"] = ("办理中", "In progress")
CASE_STATUSES["arbitrating"] = ("仲裁定责中", "Arbitration of the responsible unit")
CASE_STATUSES["extension_review"] = ("延期审批中", "Extension under review")
CASE_STATUSES["province"] = ("省级协调中", "With the province")

# English labels of values stored in Chinese (domain terms) or as codes, by kind.
ENUM_LABELS_EN: dict[str, dict[str, str]] = {
    "channel": {
        "走访": "Visit",
        "电话": "Phone",
        "微信群": "WeChat group",
        "12345热线": "12345 hotline",
        "政企直通车": "Direct line",
        "小程序": "Mini-program",
        "窗口": "Service window",
        "座谈会": "Symposium",
        "督查": "Inspection",
        "网上申报": "Online form",
        "Open311": "Open311",
    },
    "field": {"工业": "Industry", "三产": "Services", "建筑业": "Construction", "重点项目": "Key project"},
    "category": {
        "用地": "Land",
        "融资": "Financing",
        "用工/人才": "Labour / talent",
        "水电气": "Utilities",
        "审批/证照": "Approvals / licences",
        "基础设施": "Infrastructure",
        "政策兑现": "Policy delivery",
        "政策咨询": "Policy enquiry",
        "环保": "Environment",
        "安全生产": "Work safety",
        "交通物流": "Transport",
        "市场/销路": "Markets / sales",
        "其他": "Other",
    },
    "urgency": {"一般": "Normal", "紧急": "Urgent", "特急": "Very urgent", "重大": "Major"},
    "library": {"key": "Key library", "general": "General library"},
    "outcome": {"resolved": "Resolved", "partly": "Partly resolved", "not_solvable": "Not solvable now"},
    "satisfaction": {
        "very_satisfied": "Very satisfied",
        "satisfied": "Satisfied",
        "basically": "Basically satisfied",
        "unsatisfied": "Unsatisfied",
    },
    "flag": {"green": "Green", "yellow": "Yellow", "red": "Red", "black": "Black"},
    "size": {"规上": "Above designated size", "限上": "Above quota", "规下": "Below designated size"},
    "sector": {code: en for code, (_zh, en) in SECTORS.items()},
    "area_kind": {code: en for code, (_zh, en) in AREA_KINDS.items()},
    "tag_kind": {code: en for code, (_zh, en) in TAG_KINDS.items()},
}

# Chinese labels of values stored as codes.
ENUM_LABELS_ZH: dict[str, dict[str, str]] = {
    "library": {"key": "重点问题库", "general": "一般问题库"},
    "outcome": {"resolved": "已解决", "partly": "部分解决", "not_solvable": "暂无法解决"},
    "satisfaction": {
        "very_satisfied": "非常满意",
        "satisfied": "满意",
        "basically": "基本满意",
        "unsatisfied": "不满意",
    },
    "flag": {"green": "绿旗", "yellow": "黄旗", "red": "红旗", "black": "黑旗"},
    "sector": {code: zh for code, (zh, _en) in SECTORS.items()},
    "area_kind": {code: zh for code, (zh, _en) in AREA_KINDS.items()},
    "tag_kind": {code: zh for code, (zh, _en) in TAG_KINDS.items()},
}
