"""The data contract (``shared/contract/README.md``) as data.

One :class:`Table` per contract table: its columns with their types, Chinese
header names, the codes an enumerated column accepts (canonical code or its
Chinese label), which columns are required, and the key a later version of a
row replaces an earlier one by.  Ingestion, the warehouse layout, the demo
generator and the public field lists all read this module; nothing else
spells the contract out again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    STR = "str"            # free text, stripped; empty = null
    CODE = "code"          # an identifier-like string (record ids, region codes)
    REGION = "region"      # 12-digit statistical division code
    ID_NUMBER = "id_number"  # GB 11643 resident identity number
    CREDIT_CODE = "credit_code"  # GB 32100 unified social credit code
    PARTY_ID = "party_id"  # id_number or credit_code, by a sibling *_kind column
    ENUM = "enum"
    DATE = "date"
    TIMESTAMP = "timestamp"
    MONEY = "money"        # yuan, <= 2 decimals, >= 0 -> DECIMAL(18,2)
    NUMBER = "number"      # non-negative real (days, area) -> DOUBLE
    RATIO = "ratio"        # (0, 1], "40%" accepted -> DOUBLE
    BOOL = "bool"


#: the SQL type a kind is stored as in the warehouse (DuckDB / PostgreSQL spelling)
SQL_TYPES: dict[Kind, str] = {
    Kind.STR: "VARCHAR",
    Kind.CODE: "VARCHAR",
    Kind.REGION: "VARCHAR",
    Kind.ID_NUMBER: "VARCHAR",
    Kind.CREDIT_CODE: "VARCHAR",
    Kind.PARTY_ID: "VARCHAR",
    Kind.ENUM: "VARCHAR",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.NUMBER: "DOUBLE",
    Kind.RATIO: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    zh: tuple[str, ...] = ()          # Chinese header names (first is the preferred one)
    required: bool = False
    codes: dict[str, tuple[str, ...]] | None = None  # code -> accepted labels
    kind_column: str | None = None    # for PARTY_ID: the column saying person/company
    doc: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    def code_lookup(self) -> dict[str, str]:
        """Every accepted spelling (lower-cased) -> canonical code."""
        out: dict[str, str] = {}
        for code, labels in (self.codes or {}).items():
            out[code.lower()] = code
            for label in labels:
                out[label.lower()] = code
        return out


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    reference: bool               # reference table (registry) vs activity table
    subject_person: str | None = None   # column naming the person a record is about
    subject_kind: str | None = None     # its person/company column, when it has one
    aliases: tuple[str, ...] = ()       # other file/sheet names accepted for the table
    doc: str = ""
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def header_lookup(self) -> dict[str, str]:
        """Every accepted header spelling (normalised) -> canonical column name."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[normalise_header(c.name)] = c.name
            for zh in c.zh:
                out.setdefault(normalise_header(zh), c.name)
        return out


def normalise_header(text: str) -> str:
    """Header cells compare without case, spaces, full-width forms, BOMs or brackets."""
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().lower()
    for ch in " \t\r\n_-*（）()【】[]":
        t = t.replace(ch, "")
    return t


# --------------------------------------------------------------------------- codes

LEVELS = {"city": ("市",), "district": ("区", "县", "区县", "县区", "县级市"),
          "township": ("乡镇", "乡", "镇", "街道"), "village": ("村", "社区", "村社区")}
GENDERS = {"M": ("男", "male", "m"), "F": ("女", "female", "f")}
HOUSEHOLD_ROLES = {
    "head": ("户主", "本人", "本人(户主)"),
    "spouse": ("配偶", "妻", "夫", "妻子", "丈夫"),
    "child": ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女"),
    "parent": ("父母", "父亲", "母亲", "父", "母"),
    "sibling": ("兄弟姐妹", "兄", "弟", "姐", "妹", "兄弟", "姐妹"),
    "grandchild": ("孙子女", "孙子", "孙女", "外孙子", "外孙女", "外孙"),
    "grandparent": ("祖父母", "祖父", "祖母", "外祖父", "外祖母"),
    "other": ("其他", "其它"),
}
RELATIONS = {"spouse": HOUSEHOLD_ROLES["spouse"], "parent": HOUSEHOLD_ROLES["parent"],
             "child": HOUSEHOLD_ROLES["child"], "sibling": HOUSEHOLD_ROLES["sibling"]}
POSITIONS = {
    "party_secretary": ("村党组织书记", "党支部书记", "村党委书记", "书记"),
    "director": ("村委会主任", "村主任", "主任"),
    "accountant": ("会计",),
    "cashier": ("报账员", "出纳"),
    "committee_member": ("两委委员", "委员"),
    "supervision_chair": ("村务监督委员会主任", "监委会主任"),
    "group_leader": ("村民小组长", "小组长"),
    "township_cadre": ("乡镇干部",),
}
COMPANY_STATUS = {"active": ("存续", "在业", "开业", "存续（在营、开业、在册）"),
                  "deregistered": ("注销",), "revoked": ("吊销", "吊销，未注销")}
HOLDER_KINDS = {"person": ("个人", "自然人"), "company": ("企业", "公司", "法人", "单位")}
SUBSIDY_KINDS = {
    "minimum_living": ("低保", "最低生活保障"),
    "extreme_poverty": ("特困", "特困供养", "特困人员供养"),
    "temporary_relief": ("临时救助",),
    "disability": ("残疾补贴", "残疾人补贴"),
    "elderly": ("高龄补贴",),
    "other": ("其他", "其它"),
}
MEANS_TESTED = ("minimum_living", "extreme_poverty", "temporary_relief")
ASSET_KINDS = {"building": ("厂房",), "shop": ("店面", "商铺"), "land": ("土地",),
               "forest": ("山林", "林地"), "water": ("水面", "水域"), "other": ("其他", "其它")}
AREA_UNITS = {"m2": ("平方米", "㎡", "m²", "平米"), "mu": ("亩",)}
PARTY_KINDS = {"person": ("个人", "自然人"), "company": ("企业", "公司", "单位")}
PAYEE_KINDS = {**PARTY_KINDS, "other": ("其他", "其它")}
AWARD_METHODS = {"public_tender": ("公开招标",), "auction": ("竞价", "拍卖", "公开竞价"),
                 "negotiated": ("协商", "协议"), "direct": ("直接发包", "直接")}
PROCUREMENT_METHODS = {
    "public_tender": ("公开招标",),
    "invited_tender": ("邀请招标",),
    "competitive_negotiation": ("竞争性谈判", "竞争性磋商", "比选"),
    "direct_award": ("直接发包", "直接委托", "直接"),
    "in_house": ("自建", "自行组织", "自行实施"),
}
CHANNELS = {"card": ("村务卡", "公务卡", "刷卡"), "transfer": ("转账", "银行转账"), "cash": ("现金", "提现")}
CATEGORIES = {
    "salary": ("工资", "报酬"), "labor": ("劳务", "劳务费", "用工"), "subsidy": ("补助", "补贴"),
    "project": ("工程", "工程款"), "procurement": ("采购",), "office": ("办公", "办公费"),
    "hospitality": ("招待", "接待", "招待费"), "other": ("其他", "其它"),
}
PLACEMENT_METHODS = {"competitive": ("竞争性存放", "竞争性"), "negotiated": ("协议存放", "协议")}


def _c(name: str, kind: Kind, *zh: str, required: bool = False,
       codes: dict[str, tuple[str, ...]] | None = None, kind_column: str | None = None,
       doc: str = "") -> Column:
    return Column(name, kind, tuple(zh), required, codes, kind_column, doc)


REGION_ZH = ("区划代码", "村代码", "行政区划代码", "村(社区)代码", "所属村代码")

TABLES: dict[str, Table] = {}


def _t(table: Table) -> Table:
    TABLES[table.name] = table
    return table


_t(Table("regions", "行政区划", (
    _c("code", Kind.REGION, "代码", "区划代码", required=True),
    _c("name", Kind.STR, "名称", "区划名称"),
    _c("level", Kind.ENUM, "层级", codes=LEVELS),
    _c("parent_code", Kind.REGION, "上级代码", "上级区划代码"),
), key=("code",), reference=True, aliases=("行政区划", "区划")))

_t(Table("persons", "户籍人口", (
    _c("id_number", Kind.ID_NUMBER, "身份证号", "公民身份号码", "身份证号码", required=True),
    _c("name", Kind.STR, "姓名"),
    _c("gender", Kind.ENUM, "性别", codes=GENDERS),
    _c("birth_date", Kind.DATE, "出生日期"),
    _c("household_id", Kind.CODE, "户号"),
    _c("household_role", Kind.ENUM, "与户主关系", codes=HOUSEHOLD_ROLES),
    _c("region_code", Kind.REGION, *REGION_ZH, "户籍地代码"),
    _c("death_date", Kind.DATE, "死亡日期"),
), key=("id_number",), reference=True, aliases=("户籍", "户籍人口")))

_t(Table("relations", "亲属关系", (
    _c("id_number", Kind.ID_NUMBER, "身份证号", required=True),
    _c("relative_id_number", Kind.ID_NUMBER, "亲属身份证号", required=True),
    _c("relation", Kind.ENUM, "关系", "亲属关系", required=True, codes=RELATIONS),
), key=("id_number", "relative_id_number", "relation"), reference=True, aliases=("亲属关系",)))

_t(Table("officials", "村干部", (
    _c("id_number", Kind.ID_NUMBER, "身份证号", required=True),
    _c("name", Kind.STR, "姓名"),
    _c("region_code", Kind.REGION, *REGION_ZH, "任职村代码", required=True),
    _c("position", Kind.ENUM, "职务", required=True, codes=POSITIONS),
    _c("start_date", Kind.DATE, "任职开始日期", "开始日期", "任职日期"),
    _c("end_date", Kind.DATE, "任职结束日期", "结束日期", "离任日期"),
), key=("id_number", "region_code", "position", "start_date"), reference=True,
    aliases=("村干部", "干部")))

_t(Table("companies", "企业登记", (
    _c("credit_code", Kind.CREDIT_CODE, "统一社会信用代码", "信用代码", required=True),
    _c("name", Kind.STR, "名称", "企业名称"),
    _c("status", Kind.ENUM, "登记状态", "状态", codes=COMPANY_STATUS),
    _c("established_date", Kind.DATE, "成立日期"),
    _c("status_date", Kind.DATE, "状态日期", "注销吊销日期"),
    _c("legal_rep_id_number", Kind.ID_NUMBER, "法定代表人身份证号"),
    _c("legal_rep_name", Kind.STR, "法定代表人", "法定代表人姓名"),
), key=("credit_code",), reference=True, aliases=("企业", "企业登记")))

_t(Table("shareholdings", "股权", (
    _c("credit_code", Kind.CREDIT_CODE, "统一社会信用代码", "企业信用代码", required=True),
    _c("holder_kind", Kind.ENUM, "股东类型", required=True, codes=HOLDER_KINDS),
    _c("holder_id", Kind.PARTY_ID, "股东证件号", "股东证照号码", required=True, kind_column="holder_kind"),
    _c("holder_name", Kind.STR, "股东名称", "股东姓名"),
    _c("share_ratio", Kind.RATIO, "持股比例", "出资比例"),
    _c("start_date", Kind.DATE, "开始日期", "入股日期"),
    _c("end_date", Kind.DATE, "结束日期", "退出日期"),
), key=("credit_code", "holder_kind", "holder_id", "start_date"), reference=True,
    aliases=("股东", "股权")))

_t(Table("labor", "劳务用工", (
    _c("record_id", Kind.CODE, "记录编号", "记录号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("worker_id_number", Kind.ID_NUMBER, "身份证号", "务工人员身份证号", "工人身份证号"),
    _c("worker_name", Kind.STR, "姓名", "务工人员姓名", "工人姓名"),
    _c("work_date", Kind.DATE, "用工日期", "工作日期", "做工日期"),
    _c("days", Kind.NUMBER, "天数", "工日"),
    _c("amount", Kind.MONEY, "金额", "工资", "劳务费"),
    _c("approver_id_number", Kind.ID_NUMBER, "审批人身份证号"),
    _c("project_id", Kind.CODE, "项目编号"),
), key=("record_id",), reference=False, subject_person="worker_id_number",
    aliases=("劳务用工", "临时用工", "用工")))

_t(Table("subsidies", "补助救助", (
    _c("record_id", Kind.CODE, "记录编号", "记录号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("recipient_id_number", Kind.ID_NUMBER, "身份证号", "领取人身份证号"),
    _c("recipient_name", Kind.STR, "姓名", "领取人姓名"),
    _c("kind", Kind.ENUM, "类别", "补助类别", "种类", codes=SUBSIDY_KINDS),
    _c("amount", Kind.MONEY, "金额", "发放金额"),
    _c("paid_date", Kind.DATE, "发放日期", "支付日期"),
    _c("approver_id_number", Kind.ID_NUMBER, "审批人身份证号"),
), key=("record_id",), reference=False, subject_person="recipient_id_number",
    aliases=("补助", "救助", "补助救助")))

_t(Table("assets", "集体资产", (
    _c("asset_id", Kind.CODE, "资产编号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("name", Kind.STR, "名称", "资产名称"),
    _c("kind", Kind.ENUM, "类别", "资产类别", codes=ASSET_KINDS),
    _c("area", Kind.NUMBER, "面积"),
    _c("area_unit", Kind.ENUM, "面积单位", "单位", codes=AREA_UNITS),
), key=("asset_id",), reference=False, aliases=("资产", "资产资源", "集体资产")))

_t(Table("leases", "资产发包", (
    _c("contract_id", Kind.CODE, "合同编号", required=True),
    _c("asset_id", Kind.CODE, "资产编号"),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("lessee_kind", Kind.ENUM, "承租方类型", codes=PARTY_KINDS),
    _c("lessee_id", Kind.PARTY_ID, "承租方证件号", "承租方证照号码", kind_column="lessee_kind"),
    _c("lessee_name", Kind.STR, "承租方", "承租方名称"),
    _c("signed_date", Kind.DATE, "签订日期"),
    _c("start_date", Kind.DATE, "开始日期", "起租日期"),
    _c("end_date", Kind.DATE, "结束日期", "到期日期"),
    _c("annual_rent", Kind.MONEY, "年租金"),
    _c("award_method", Kind.ENUM, "发包方式", codes=AWARD_METHODS),
), key=("contract_id",), reference=False, subject_person="lessee_id", subject_kind="lessee_kind",
    aliases=("发包", "出租", "租赁", "资产发包")))

_t(Table("projects", "村级工程", (
    _c("project_id", Kind.CODE, "项目编号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("name", Kind.STR, "项目名称", "名称"),
    _c("budget", Kind.MONEY, "预算", "预算金额"),
    _c("contract_amount", Kind.MONEY, "合同金额"),
    _c("final_amount", Kind.MONEY, "结算金额", "决算金额"),
    _c("procurement_method", Kind.ENUM, "采购方式", "招标方式", codes=PROCUREMENT_METHODS),
    _c("contractor_credit_code", Kind.CREDIT_CODE, "承包方信用代码", "承包单位统一社会信用代码"),
    _c("contractor_name", Kind.STR, "承包方", "承包单位"),
    _c("contract_date", Kind.DATE, "合同日期", "签约日期"),
    _c("start_date", Kind.DATE, "开工日期"),
    _c("completion_date", Kind.DATE, "竣工日期"),
    _c("decision_id", Kind.CODE, "决策编号"),
), key=("project_id",), reference=False, aliases=("工程", "村级工程", "项目")))

_t(Table("decisions", "重大事项决策", (
    _c("decision_id", Kind.CODE, "决策编号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("subject", Kind.STR, "事项", "决策事项"),
    _c("proposed_date", Kind.DATE, "提议日期"),
    _c("approved_date", Kind.DATE, "通过日期", "决议日期"),
    _c("disclosed_date", Kind.DATE, "公开日期", "公示日期"),
), key=("decision_id",), reference=False, aliases=("决策", "四议两公开", "重大事项决策")))

_t(Table("payments", "村级支出", (
    _c("payment_id", Kind.CODE, "支付编号", "凭证号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("account_no", Kind.CODE, "账号", "付款账号"),
    _c("payee_kind", Kind.ENUM, "收款方类型", codes=PAYEE_KINDS),
    _c("payee_id", Kind.PARTY_ID, "收款方证件号", "收款方证照号码", kind_column="payee_kind"),
    _c("payee_name", Kind.STR, "收款方", "收款方名称", "收款人"),
    _c("amount", Kind.MONEY, "金额", "支付金额"),
    _c("paid_at", Kind.TIMESTAMP, "支付时间", "付款时间"),
    _c("channel", Kind.ENUM, "支付方式", "渠道", codes=CHANNELS),
    _c("category", Kind.ENUM, "类别", "支出类别", codes=CATEGORIES),
    _c("has_invoice", Kind.BOOL, "有发票", "是否有发票"),
    _c("approved_at", Kind.TIMESTAMP, "审批时间"),
    _c("approver_id_number", Kind.ID_NUMBER, "审批人身份证号"),
    _c("project_id", Kind.CODE, "项目编号"),
), key=("payment_id",), reference=False, subject_person="payee_id", subject_kind="payee_kind",
    aliases=("支出", "支付", "村务卡", "村级支出")))

_t(Table("deposits", "资金存放", (
    _c("deposit_id", Kind.CODE, "存放编号", required=True),
    _c("region_code", Kind.REGION, *REGION_ZH, required=True),
    _c("bank_name", Kind.STR, "银行", "存放银行"),
    _c("amount", Kind.MONEY, "金额", "存放金额"),
    _c("start_date", Kind.DATE, "开始日期", "存入日期"),
    _c("end_date", Kind.DATE, "结束日期", "到期日期"),
    _c("placement_method", Kind.ENUM, "存放方式", codes=PLACEMENT_METHODS),
), key=("deposit_id",), reference=False, aliases=("存款", "资金存放")))


REFERENCE_TABLES = [t for t in TABLES.values() if t.reference]
ACTIVITY_TABLES = [t for t in TABLES.values() if not t.reference]

#: columns the warehouse adds to every contract table
META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_attrs", "VARCHAR"),          # unknown extra columns, as a JSON object
    ("_issues", "VARCHAR"),         # soft findings (e.g. optional id failing checksum), '; '-joined
    ("_unresolved", "BOOLEAN"),     # activity row whose person id is missing or invalid
    ("_file", "VARCHAR"),
    ("_line", "BIGINT"),            # line in the CSV, row in the sheet, row number in Parquet
    ("_sheet", "VARCHAR"),
    ("_batch", "VARCHAR"),
)


def table_for_name(stem: str) -> Table | None:
    """The contract table a file or sheet name means: ``labor``, ``Labor_2025``, ``劳务用工``."""
    import re
    import unicodedata

    s = unicodedata.normalize("NFKC", stem).strip().lower()
    if s in TABLES:
        return TABLES[s]
    for t in TABLES.values():
        if s in (a.lower() for a in t.aliases) or s == t.zh:
            return t
    # "labor_2025-01", "labor.part1": the table name followed by a separator
    m = re.match(r"^([a-z]+)[\s_\-.]", s)
    if m and m.group(1) in TABLES:
        return TABLES[m.group(1)]
    for t in TABLES.values():
        for a in (*t.aliases, t.zh):
            if s.startswith(a.lower()) and len(s) > len(a) and not s[len(a)].isalpha():
                return t
    return None
