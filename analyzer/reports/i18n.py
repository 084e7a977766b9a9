"""Report headings in English and Chinese (zh-CN, Microsoft's terms: 密码写回, 服务总线, 检测信号, 跟踪 ID …).

Catalogue text (titles, causes, fixes) comes translated from codes/; this file holds only the words
the renderers add around it. `t(key, lang)`: the English text is the key.
"""

from __future__ import annotations

import functools
import re

from analyzer.events import UNKNOWN_COMPUTER
from analyzer.sentences import SENTENCES

EN = {
    "first_event": "first event",
    "last_event": "last event",
    "started": "started",
    "succeeded": "succeeded",
    "failed": "failed",
    "success_rate": "success rate",
    "top_cause": "top cause",
    "last_success": "last success",
    "last_heartbeat": "last heartbeat",
    "logs": "logs",
}
ZH = {
    "not in the catalogue": "不在代码目录中",
    "Informational: no cause, nothing to fix.": "仅供参考：没有原因，无需修复。",
    "server": "服务器",
    "status": "状态",
    "first_event": "首个事件",
    "last_event": "最后事件",
    "first event": "首个事件",
    "last event": "最后事件",
    "operations": "操作",
    "started": "已开始",
    "succeeded": "成功",
    "failed": "失败",
    "unfinished": "未完成",
    "success_rate": "成功率",
    "success rate": "成功率",
    "top_cause": "首要原因",
    "top cause": "首要原因",
    "last_success": "最后一次成功",
    "last_heartbeat": "最后检测信号",
    "logs": "日志",
    "cause": "原因",
    "title": "标题",
    "servers": "服务器数",
    "events": "事件",
    "input": "输入",
    "records": "记录",
    "unreadable": "无法读取",
    "problem": "问题",
    "kind": "类型",
    "path": "路径",
    "Password writeback report": "密码写回报告",
    "Triage of password writeback servers": "密码写回服务器分诊",
    "catalogue": "代码目录",
    "time span": "时间范围",
    "inputs": "个输入",
    "Log coverage": "日志覆盖范围",
    "Client version": "客户端版本",
    "Service Bus namespace": "服务总线命名空间",
    "Cloud": "云",
    "Evidence": "证据",
    "evidence": "证据",
    "Operations": "操作",
    "self-service reset": "自助式密码重置",
    "password change": "密码更改",
    "admin reset": "管理员密码重置",
    "Root causes, by impact": "根本原因（按影响排序）",
    "No failures or outages found.": "未发现失败或中断。",
    "failed or unfinished operations": "个失败或未完成的操作",
    "users": "个用户",
    "Tracking IDs": "跟踪 ID",
    "Fix, in order": "修复步骤（按顺序）",
    "References": "参考",
    "Service health": "服务运行状况",
    "Service starts and stops": "服务启动和停止",
    "none in the log": "日志中没有",
    "Heartbeats (31019)": "检测信号 (31019)",
    "last": "最后",
    "longest gap": "最长间隔",
    "min": "分钟",
    "outage start": "中断开始",
    "last error": "最后错误",
    "errors": "错误",
    "recovered": "恢复",
    "not by the end of the log": "直到日志结束仍未恢复",
    "Prerequisites the evidence points at": "证据指向的先决条件",
    "Writeback events the catalogue does not know": "代码目录未收录的写回事件",
    "Inputs": "输入",
    "provider": "提供程序",
    "event id": "事件 ID",
    "count": "数量",
    "sha256": "sha256",
    "command": "命令",
    "healthy": "正常",
    "degraded": "降级",
    "failing": "故障",
    "no-data": "无数据",
    "Summary": "摘要",
    "Timeline of writeback events": "写回事件时间线",
    "successes": "成功",
    "failures": "失败",
    "outage": "中断",
    "Operations table": "操作表",
    "user": "用户",
    "outcome": "结果",
    "tracking id": "跟踪 ID",
    "start": "开始",
    "Fleet causes": "机群中的原因",
    "Problems with inputs": "输入问题",
    "duplicate events skipped": "跳过的重复事件",
    "Read this first": "请先阅读",
    "Operation counts incomplete": "操作计数不完整",
    "Service Bus hosts of more than one cloud": "服务总线主机属于多个云",
    "a server writes back to one cloud; two installations under one name?": (
        "一台服务器只向一个云写回；是否为同名的两次安装？"
    ),
    "not read": "未读取",
    "times are the exporting machine's local time, time zone unknown: shown without Z, not UTC "
    "(give --input-tz to convert)": "时间为导出计算机的本地时间，时区未知：显示时不带 Z，"
    "并非 UTC（用 --input-tz 转换）",
    "local times converted to UTC from": "本地时间已转换为 UTC，原时区",
    "info": "信息",
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    "check": "检查",
    "more: every row is in the JSON report (-f json)": "未显示：所有行都在 JSON 报告中 (-f json)",
}


# Nouns that follow a count: the Chinese measure word and noun (English adds "s" for more than one).
COUNTED_ZH = {
    "input": "个输入",
    "record": "条记录",
    "user": "个用户",
    "event": "个事件",
    "file": "个文件",
    "server": "台服务器",
    "operation": "个操作",
    "failed or unfinished operation": "个失败或未完成的操作",
    "error": "个错误",
}


def counted(n: int, noun: str, lang: str = "en") -> str:
    """`1 input`, `2 inputs`; `2 个输入` in Chinese."""
    if lang == "zh-CN" and noun in COUNTED_ZH:
        return f"{n:,} {COUNTED_ZH[noun]}"
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def t(key: str, lang: str = "en") -> str:
    if lang == "zh-CN":
        return ZH.get(key, EN.get(key, key))
    return EN.get(key, key)


# The analysis's and readers' sentences (analyzer/sentences.py) in Chinese, by key: the values are read back from
# the English text and written as `_value` writes them (units 秒/分钟/小时; ids, names and paths as they are).
SENTENCES_ZH = {
    "minimum-age": "同一用户上一次成功更改密码在 {since}前",
    "others-succeed": "在这些操作失败期间，其他用户有 {count} 个操作成功",
    "cluster": "{title}：{codes} 在 {minutes} 分钟内出现",
    "admin-action": "{event_id} {name} 于 {stamp}，{order}首次发现该原因的时间",
    "sync-only": "有同步引擎的事件，但没有写回服务的事件",
    "offboarded": "已在向导中禁用写回 (31012, 31013)，之后未再启用",
    "quiet": "{days} 天内有 {heartbeats} 个检测信号和 {changes} 次本地密码更改 (656)，"
    "但没有任何自助式密码重置、密码更改或管理员密码重置",
    "filtered": "输入中有失败事件，但没有开始、成功或检测信号事件（是否为只筛选了错误的导出？）",
    "same-key": "{count} 个事件的计算机、通道和 EventRecordID 与{where}相同，但内容不同"
    "（同名的重建服务器、已清除的日志或伪造）：两者均已保留",
    "default-cause": "{provider} {event_id} 的默认原因",
    "not-carried": "此导出不含 {fields}",
    "local-times": "时间为导出计算机的本地时间（未知时区；可用 --input-tz 转换）",
    "converted": "时间已从 {zone} 转换为 UTC",
    "this-input": "此输入中的其他事件",
    "other-input": " {path} 中的事件",  # its leading space parts the path from 与 in "same-key"
}
# What an export may not carry (ingest/exports: `Facts.carried`).
_FIELDS_ZH = {
    "computer": "计算机",
    "channel": "通道",
    "level": "级别",
    "qualifiers": "限定符",
    "keywords": "关键字",
    "record ids": "记录 ID",
    "record ids (some events)": "记录 ID（部分事件）",
    "event data (only the formatted message)": "事件数据（仅有格式化后的消息）",
    "event data names": "事件数据名称",
}
_UNITS_ZH = {"s": "秒", "min": "分钟", "h": "小时"}
_ORDER_ZH = {"before": "早于", "after": "晚于"}


def said(text: str, lang: str) -> str:
    """`text` in `lang` when it is one of the analysis's sentences; any other text as it is."""
    if lang != "zh-CN":
        return text
    for sentence in SENTENCES:
        values = sentence.read(text)
        if values is not None:
            shown = {name: _value(sentence.slots[name].kind, value, lang) for name, value in values.items()}
            return SENTENCES_ZH[sentence.key].format(**shown)
    return text


def server_label(name: str, lang: str) -> str:
    """A server's name for a reader in `lang`: an input's stand-in name for a missing computer
    (`events.server_name`) in its words; the JSON keeps the name as it is (the server's key)."""
    if lang != "zh-CN" or not (name.startswith(UNKNOWN_COMPUTER) and name.endswith(")")):
        return name
    return f"（未知计算机：{name[len(UNKNOWN_COMPUTER) : -1]}）"


def noted(text: str | None, lang: str) -> str | None:
    """An input's note (its notes joined by `; `) with each of the sentences in it in `lang`, the rest as it is."""
    if lang != "zh-CN" or not text:
        return text
    parts, shown, i = text.split("; "), [], 0
    while i < len(parts):  # the shortest run of parts that is a sentence (one may hold "; "), else a part
        for j in range(i + 1, len(parts) + 1):
            note = "; ".join(parts[i:j])
            if (rendered := said(note, lang)) != note:
                break
        else:
            rendered, j = parts[i], i + 1
        shown.append(rendered)
        i = j
    return "；".join(shown)


def _value(kind: str, value: str, lang: str) -> str:
    if kind == "duration":
        number, unit = value.split(" ")
        return f"{number} {_UNITS_ZH[unit]}"
    if kind == "order":
        return _ORDER_ZH[value]
    if kind == "fields":
        return "、".join(_FIELDS_ZH.get(name, name) for name in value.replace(" or ", ", ").split(", "))
    if kind == "cluster":
        return _cluster_title(value, lang)
    if kind == "text":
        return said(value, lang)  # A sentence in a sentence (where the records are), or a name as it is.
    return value


@functools.cache
def _cluster_title(english: str, lang: str) -> str:
    """A cluster's title in `lang`, from the shipped catalogue (a cluster it lacks keeps its title)."""
    from analyzer.catalogue.loader import load

    titles = {cluster.title.en: cluster.title.get(lang) for cluster in load().clusters}
    return titles.get(english, english)


_CLUE = re.compile(r" \((?:(?P<lang>[\w-]+) message: (?P<message>[\w-]+)|(?P<any>language-independent))\)$")


def evidence(text: str, lang: str) -> str:
    """An evidence text (`Found.describe`, or a sentence of the analysis) in `lang`; the JSON keeps the
    English one. Of a quote only the label is translated: the quoted log text stays as written."""
    if lang != "zh-CN":
        return text
    found = _CLUE.search(text)
    if found is None:
        return said(text, lang)
    label = "（与语言无关）" if found["any"] else f"（{found['lang']} 消息：{found['message']}）"
    return text[: found.start()] + label
