"""Maintain the console's gettext catalogues: ``python -m oversight.console.catalogs``.

Extracts every message from the console's templates and code (Babel), and writes
``locale/zh_CN/LC_MESSAGES/oversight.po`` and ``locale/en/…`` keeping the translations
already in the ``.po`` files; new messages get the Chinese from :data:`ZH` below, or stay
empty (and the test of the catalogues fails, naming them).
"""

from __future__ import annotations

from pathlib import Path

from .i18n import DOMAIN, LOCALE_DIR

HERE = Path(__file__).resolve().parent

ZH: dict[str, str] = {
    'Red': '红色',
    'Orange': '橙色',
    'Yellow': '黄色',
    'Green': '绿色',
    'Labour': '劳务用工',
    'Subsidies': '补助救助',
    'Asset leases': '资产发包',
    'Village works': '村级工程',
    'Payments': '村级支出',
    'Deposits': '资金存放',
    'New': '新预警',
    'Dispatched': '已交办',
    'Returned': '已退回',
    'Accepted': '已接单',
    'Verifying': '核查中',
    'Rectifying': '整改中',
    'Rectified': '已整改',
    'Closed': '已销号',
    'Dismissal requested': '申请消除',
    'Dismissed': '已消除',
    'Referred as a clue': '转问题线索',
    'Monitoring': '持续关注',
    'No action': '无需处置',
    'Dispatch': '交办',
    'Triage': '研判',
    'Return as misdirected': '退回（交办有误）',
    'Accept': '接单',
    'Start verification': '开始核查',
    'Confirm the problem': '问题属实',
    'Request dismissal': '申请预警消除',
    'Report rectification done': '报告整改完成',
    'Close (review passed)': '审核销号',
    'Reject the rectification': '整改不到位，退回',
    'Approve dismissal': '同意消除',
    'Reject the dismissal': '不同意消除',
    'Supervision notice (overdue)': '督办（超期）',
    'Reopened by a new scan': '新数据重新打开',
    'Refer as a clue': '转为问题线索',
    'Keep monitoring': '持续关注',
    'No action needed': '无需处置',
    'District discipline officer': '县（区）纪检干部',
    'Township discipline officer': '乡镇（街道）纪检干部',
    'Village liaison': '村务监督联络员',
    'Auditor': '审计人员',
    'Data steward': '数据管理员',
    'Administrator': '系统管理员',
    'City': '市',
    'District': '县（区）',
    'Township': '乡镇（街道）',
    'Village': '村（社区）',
    'acceptance': '接单',
    'verification': '核查',
    'rectification': '整改',
    'Labour sheets': '劳务用工',
    'Subsidy payments': '补助发放',
    'Collective assets': '集体资产',
    'Leases': '资产发包合同',
    'Village projects': '村级工程',
    'Decisions': '集体决策',
    'Village payments': '村级支出',
    'Regions': '行政区划',
    'Household register': '户籍',
    'Declared relations': '亲属关系申报',
    'Officials': '村干部名录',
    'Company registry': '企业登记',
    'Shareholdings': '股权',
    'self': '本人',
    'spouse': '配偶',
    'parent': '父母',
    'child': '子女',
    'sibling': '兄弟姐妹',
    'grandparent': '祖父母',
    'grandchild': '孙子女',
    'legal representative': '法定代表人',
    'shareholder': '持股',
    'The form expired or was not sent from this site: please try again.': '表单已过期或并非从本站提交，请重试。',
    'Wrong username, password or code.': '用户名、密码或动态验证码错误。',
    'This account is locked after repeated failed logins; try again later or ask an admin.': '多次登录失败，账号已锁定；请稍后再试或联系管理员。',
    'Rule': '规则',
    'Region': '区域',
    'Colour': '颜色',
    'Handling unit': '承办单位',
    'Due': '办理期限',
    'Amount': '金额',
    'First seen': '首次发现',
    'Exported by': '导出人',
    'Exported at': '导出时间',
    'Filter': '筛选条件',
    'Bad request': '请求有误',
    'Please sign in': '请登录',
    'Not allowed': '无权操作',
    'Not found': '未找到',
    'Conflict': '操作冲突',
    'File too large': '文件过大',
    'File type not accepted': '文件类型不支持',
    'Check your input': '请检查填写内容',
    'Account locked': '账号已锁定',
    'Refused': '已拒绝',
    '%(n)s warnings': '共 %(n)s 条预警',
    'Export to Excel (this filter)': '导出Excel（当前筛选）',
    'Warnings matching the filter, page %(p)s of %(n)s': '符合筛选条件的预警，第 %(p)s 页，共 %(n)s 页',
    'Severity': '预警等级',
    'State': '状态',
    'Raised': '预警时间',
    'overdue': '已超期',
    'Pages': '分页',
    'Previous': '上一页',
    'Page %(p)s of %(n)s': '第 %(p)s 页 / 共 %(n)s 页',
    'Next': '下一页',
    'No warnings match this filter.': '没有符合条件的预警。',
    'Oversight console': '基层公权力大数据监督',
    'Skip to content': '跳到正文',
    'Big-data supervision': '大数据监督',
    'Main': '主导航',
    'Dashboard': '大数据账',
    'Warnings': '预警',
    'Data quality': '数据质量',
    'Rules': '规则',
    'Admin': '系统管理',
    'Sign out': '退出',
    'Grassroots public power, supervised with data': '基层公权力大数据监督平台',
    'Big-data ledger': '大数据账',
    'every number opens the list behind it': '点击任一数字可查看对应预警清单',
    'Key figures': '关键数据',
    'Warnings in all': '预警总数',
    'Open': '在办',
    'Overdue': '超期',
    'This month': '本月',
    'Last month': '上月',
    'By severity': '按预警等级',
    'Chart: warnings by severity (the table below has the figures)': '图表：按预警等级统计（数字见下表）',
    'By area of power': '按权力领域',
    'Chart: warnings by area (the table below has the figures)': '图表：按权力领域统计（数字见下表）',
    'Area': '领域',
    'Trend over 24 months': '近24个月趋势',
    'Chart: new warnings per month (the table below has the figures)': '图表：每月新增预警（数字见下表）',
    'Figures per month': '每月数字',
    'Month': '月份',
    'By place': '按区域',
    'All': '全部',
    'Dashboard of this place': '该区域的大数据账',
    'No warnings yet.': '暂无预警。',
    'Top villages': '预警最多的村',
    'Top rules': '触发最多的规则',
    'By state': '按办理状态',
    'Records collected': '数据归集情况',
    'Source figures are not available right now:': '暂时无法读取数据归集情况：',
    'Source table': '数据来源表',
    'Rows': '条数',
    'Latest record': '最新记录日期',
    'Last loaded': '最近导入',
    'Quarantined rows': '隔离数据',
    'Breadcrumb': '位置',
    'Done:': '已完成：',
    'comment added': '已添加意见',
    'file uploaded': '已上传文件',
    'Warning': '预警编号',
    'Subject': '预警对象',
    'Amount judged': '涉及金额',
    'As of': '数据截至',
    'What was found': '预警内容',
    'Findings of the verification': '核查结论',
    'What you can do now': '当前可办理事项',
    'Hand to unit': '交办给',
    'Outcome': '研判结果',
    'Findings (what verification found)': '核查结论（查实的问题）',
    'Reason or comment': '理由或说明',
    'required': '必填',
    'Evidence (required)': '佐证材料（必填）',
    'Upload files (PDF, image, xlsx)': '上传文件（PDF、图片、xlsx）',
    'Relation path': '关系链',
    'Evidence': '证据',
    'Figures the rule judged': '规则判定依据',
    'Parameters used': '使用的参数',
    'Source records': '原始记录',
    'The source rows cannot be shown right now:': '暂时无法显示原始记录：',
    'Not in the warehouse:': '数据仓中未找到：',
    'Timeline': '办理过程',
    'Raised by the rule scan': '规则扫描发现预警',
    'Findings': '核查结论',
    'Comment': '意见',
    'File': '文件',
    'Add a comment': '添加意见',
    'Add comment': '提交意见',
    'Attach evidence (PDF, image, xlsx)': '上传佐证材料（PDF、图片、xlsx）',
    'Upload': '上传',
    'Code': '代码',
    'Sign in': '登录',
    'Sign in to the console': '登录工作台',
    'Username': '用户名',
    'Password': '密码',
    'One-time code (staff accounts)': '动态验证码（工作人员账号）',
    'Village liaisons leave this empty. Officers, auditors, data stewards and admins enter the 6-digit code of their authenticator.': '村务监督联络员无需填写；纪检干部、审计人员、数据管理员和系统管理员请输入验证器上的6位数字。',
    'Demo accounts': '演示账号',
    'This is a demo deployment: the one-time codes are shown here. Reload the page for a fresh code.': '这是演示环境：动态验证码显示在此处，刷新页面可获取新的验证码。',
    'Role': '角色',
    'Rows the contract rejected (quarantine) and activity rows whose person could not be resolved, for your area.': '本辖区不符合数据规范而被隔离的数据，以及无法确认当事人身份的业务记录。',
    'The warehouse cannot be read right now:': '暂时无法读取数据仓：',
    'Only table': '仅显示表',
    'All tables': '全部表',
    'Quarantined rows by source': '按来源统计的隔离数据',
    '(whole file)': '（整个文件）',
    'Nothing quarantined.': '没有隔离数据。',
    'Unresolved persons by source': '按来源统计的身份未确认记录',
    'Every person resolved.': '所有人员身份均已确认。',
    'Download CSV': '下载CSV',
    'Line': '行号',
    'Column': '列',
    'Reason': '原因',
    'Raw row': '原始内容',
    'Unresolved persons': '身份未确认的记录',
    'Record': '记录',
    'Id as given': '所填证件号',
    'Name as given': '所填姓名',
    'Other findings': '其他问题',
    'Kind': '类型',
    'Page %(p)s': '第 %(p)s 页',
    'Rule catalogue': '规则目录',
    'The rule settings in oversight.toml cannot be read:': '无法读取 oversight.toml 中的规则设置：',
    'Backtest a threshold': '阈值回测',
    'Runs the rule on the loaded data with another value and shows which warnings it would add or remove. Nothing is saved.': '用新的参数值在现有数据上重新运行规则，显示会新增或减少哪些预警。不会保存任何内容。',
    'Parameter': '参数',
    'New value': '新值',
    'Region code (empty: your area)': '区划代码（留空为本辖区）',
    'Run backtest': '运行回测',
    'as of': '截至',
    '%(b)s warnings now, %(a)s with the new value: %(add)s added, %(rem)s removed': '现有 %(b)s 条预警，采用新值后 %(a)s 条：新增 %(add)s 条，减少 %(rem)s 条',
    'Now': '现有',
    'Added': '新增',
    'Removed': '减少',
    'To keep this value, an administrator adds to oversight.toml:': '如需采用此值，请管理员在 oversight.toml 中加入：',
    'Rules and their parameters': '规则及参数',
    'Parameters in force': '生效参数',
    'Confirmed': '属实',
    'Confirmation rate': '属实率',
    'The rule catalogue is not available.': '规则目录暂不可用。',
    'Filter warnings': '筛选预警',
    'Open (not finished)': '在办（未办结）',
    'My whole area': '本辖区全部',
    'Raised from': '预警日期自',
    'Raised until': '预警日期至',
    'Search id or subject': '按编号或对象搜索',
    'Search id or subject (beginning)': '按编号或对象开头搜索',
    'Overdue only': '仅看超期',
    'Waiting on me': '待我办理',
    'Apply filter': '筛选',
    'Clear': '清除',
    'Administration': '系统管理',
    'Saved.': '已保存。',
    'Second factor of the new account': '新账号的动态验证码密钥',
    'Give this secret to %(u)s once, to enrol an authenticator app:': '请将此密钥交给 %(u)s（仅显示一次），用于绑定验证器：',
    'Users': '用户',
    'Change': '修改',
    'active': '启用',
    'disabled': '停用',
    'locked': '已锁定',
    'Account state of %(u)s': '%(u)s 的账号状态',
    'enable': '启用',
    'disable': '停用',
    'Unlock %(u)s': '解锁 %(u)s',
    'unlock': '解锁',
    'Save': '保存',
    'New account': '新建账号',
    'Display name': '显示名称',
    'Password (10+ characters)': '密码（至少10位）',
    'Create account': '创建账号',
    'Deadlines (working days)': '办理时限（工作日）',
    'Save deadlines': '保存时限',
    'Holidays': '法定节假日',
    'Make-up working days': '调休工作日',
    'One date per line (YYYY-MM-DD)': '每行一个日期（YYYY-MM-DD）',
    '%(n)s regions in your area': '本辖区共 %(n)s 个区域',
    'Name': '名称',
    'Level': '层级',
    'Add a region': '新增区域',
    'Code (12 digits)': '代码（12位）',
    'Parent': '上级',
    'Add region': '新增',
    'Account created.': '账号已创建。',
    'By region': '按区域',
    '(no region in the row)': '（该行无区划代码）',
    'Role of %(u)s': '%(u)s 的角色',
    'no warehouse has been loaded yet': '尚未导入任何数据',
    'the warehouse is busy (a load or scan is running)': '数据仓正忙（正在导入或扫描）',
    'the warehouse cannot be reached': '无法连接数据仓',
    'the console does not read this kind of warehouse directly': '工作台不能直接读取此类数据仓',
    'the identity tables are not built yet: run `oversight scan` first': '尚未生成身份比对表：请先运行 `oversight scan`',
}


def extract() -> dict[str, list[str]]:
    """The console's own messages, then every service message with an id (``Msg("…")``, the
    refusals the console shows translated) anywhere in the package."""
    from babel.messages.extract import extract_from_dir

    msgs: dict[str, list[str]] = {}
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}, "**.py": {}}
    for fn, lineno, message, _comments, _ctx in extract_from_dir(
            str(HERE), method_map, options_map=options, keywords={"_": None, "N_": None, "gettext": None}):
        msg = message if isinstance(message, str) else message[0]
        msgs.setdefault(msg, []).append(f"console/{fn}:{lineno}")
    package = HERE.parent
    for fn, lineno, message, _comments, _ctx in extract_from_dir(
            str(package), [("**.py", "python")], options_map={"**.py": {}}, keywords={"Msg": None}):
        msg = message if isinstance(message, str) else message[0]
        if msg:
            msgs.setdefault(msg, []).append(f"{fn}:{lineno}")
    return msgs


def existing(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return {}
    with po.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and isinstance(m.id, str)}


def write(lang: str, msgs: dict[str, list[str]], translate) -> Path:  # noqa: ANN001
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    cat = Catalog(locale=lang, domain=DOMAIN, project="oversight", version="1", charset="utf-8",
                  fuzzy=False)
    for msg, locs in msgs.items():
        cat.add(msg, translate(msg), locations=[(x.rsplit(":", 1)[0], int(x.rsplit(":", 1)[1])) for x in locs[:3]])
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fh:
        write_po(fh, cat, width=100, omit_header=False, sort_output=False)
    return po


def main() -> None:
    msgs = extract()
    have = existing("zh_CN")
    write("zh_CN", msgs, lambda m: have.get(m) or ZH.get(m, ""))
    write("en", msgs, lambda m: "")
    missing = [m for m in msgs if not (have.get(m) or ZH.get(m))]
    for m in missing:
        print("untranslated:", m)


if __name__ == "__main__":
    main()
