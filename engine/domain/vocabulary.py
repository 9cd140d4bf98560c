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
}
