"""Event Viewer's labels in the display languages customers export in, as data, and the matching
rules built on them.

Sources: the team's research notes (`eventviewer-labels.yaml`, gathered from real pasted
exports; confidence per language there). Seen in real exports: en, de, ja, zh-CN, zh-TW, ru
details blocks; en, de CSV headers; ja CSV header from a parser written against real files.
fr, es, it, pt-BR, ko labels and the fr/es/zh-CN CSV headers are best guesses from the UI
terminology: matching is tolerant (case, spaces or no-break spaces before the colon, either
apostrophe), and an unknown label set makes the file refused by name, never misread.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# "Copy -> Copy details as text": label per field and language (colon included).
DETAILS: dict[str, dict[str, str]] = {
    "en": {
        "log_name": "Log Name:",
        "source": "Source:",
        "date": "Date:",
        "event_id": "Event ID:",
        "task_category": "Task Category:",
        "level": "Level:",
        "opcode": "OpCode:",
        "keywords": "Keywords:",
        "user": "User:",
        "computer": "Computer:",
        "description": "Description:",
        "event_xml": "Event Xml:",
    },
    "de": {
        "log_name": "Protokollname:",
        "source": "Quelle:",
        "date": "Datum:",
        "event_id": "Ereignis-ID:",
        "task_category": "Aufgabenkategorie:",
        "level": "Ebene:",
        "keywords": "Schlüsselwörter:",
        "user": "Benutzer:",
        "computer": "Computer:",
        "description": "Beschreibung:",
        "event_xml": "Ereignis-XML:",
    },
    "fr": {
        "log_name": "Nom du journal :",
        "source": "Source :",
        "date": "Date :",
        "event_id": "ID de l’événement :",
        "task_category": "Catégorie de la tâche :",
        "level": "Niveau :",
        "keywords": "Mots clés :",
        "user": "Utilisateur :",
        "computer": "Ordinateur :",
        "description": "Description :",
        "event_xml": "XML de l’événement :",
    },
    "es": {
        "log_name": "Nombre de registro:",
        "source": "Origen:",
        "date": "Fecha:",
        "event_id": "Id. del evento:",
        "task_category": "Categoría de la tarea:",
        "level": "Nivel:",
        "keywords": "Palabras clave:",
        "user": "Usuario:",
        "computer": "Equipo:",
        "description": "Descripción:",
        "event_xml": "XML de evento:",
    },
    "it": {
        "log_name": "Nome registro:",
        "source": "Origine:",
        "date": "Data:",
        "event_id": "ID evento:",
        "task_category": "Categoria attività:",
        "level": "Livello:",
        "keywords": "Parole chiave:",
        "user": "Utente:",
        "computer": "Computer:",
        "description": "Descrizione:",
        "event_xml": "XML evento:",
    },
    "pt-BR": {
        "log_name": "Nome do Log:",
        "source": "Fonte:",
        "date": "Data:",
        "event_id": "Identificação do Evento:",
        "task_category": "Categoria da Tarefa:",
        "level": "Nível:",
        "keywords": "Palavras-chave:",
        "user": "Usuário:",
        "computer": "Computador:",
        "description": "Descrição:",
        "event_xml": "Xml do Evento:",
    },
    "ru": {
        "log_name": "Имя журнала:",
        "source": "Источник:",
        "date": "Дата:",
        "event_id": "Код события:",
        "task_category": "Категория задачи:",
        "level": "Уровень:",
        "keywords": "Ключевые слова:",
        "user": "Пользователь:",
        "computer": "Компьютер:",
        "description": "Описание:",
        "event_xml": "Xml события:",
    },
    "ja": {
        "log_name": "ログの名前:",
        "source": "ソース:",
        "date": "日付:",
        "event_id": "イベント ID:",
        "task_category": "タスクのカテゴリ:",
        "level": "レベル:",
        "keywords": "キーワード:",
        "user": "ユーザー:",
        "computer": "コンピューター:",
        "description": "説明:",
        "event_xml": "イベント XML:",
    },
    "zh-CN": {
        "log_name": "日志名称:",
        "source": "来源:",
        "date": "日期:",
        "event_id": "事件 ID:",
        "task_category": "任务类别:",
        "level": "级别:",
        "keywords": "关键字:",
        "user": "用户:",
        "computer": "计算机:",
        "description": "描述:",
        "event_xml": "事件 Xml:",
    },
    "zh-TW": {
        "log_name": "記錄檔名稱:",
        "source": "來源:",
        "date": "日期:",
        "event_id": "事件識別碼:",
        "task_category": "工作類別:",
        "level": "層級:",
        "keywords": "關鍵字:",
        "user": "使用者:",
        "computer": "電腦:",
        "description": "描述:",
        "event_xml": "事件 Xml:",
    },
    "ko": {
        "log_name": "로그 이름:",
        "source": "원본:",
        "date": "날짜:",
        "event_id": "이벤트 ID:",
        "task_category": "태스크 범주:",
        "level": "수준:",
        "keywords": "키워드:",
        "user": "사용자:",
        "computer": "컴퓨터:",
        "description": "설명:",
        "event_xml": "이벤트 Xml:",
    },
}
# Spellings seen besides the ones above (older Windows builds).
_DETAILS_EXTRA = {"コンピュータ:": "computer"}

# Event Viewer "Save as CSV" / "Save as Text" column names (the shown columns; the description
# column after them has no name). Per language: level, date, source, event id, task category, and
# keywords (the Security log's view shows Keywords first).
COLUMNS: dict[str, dict[str, str]] = {
    "en": {
        "level": "Level",
        "date": "Date and Time",
        "source": "Source",
        "event_id": "Event ID",
        "task_category": "Task Category",
        "keywords": "Keywords",
    },
    "de": {
        "level": "Ebene",
        "date": "Datum und Uhrzeit",
        "source": "Quelle",
        "event_id": "Ereignis-ID",
        "task_category": "Aufgabenkategorie",
        "keywords": "Schlüsselwörter",
    },
    "fr": {
        "level": "Niveau",
        "date": "Date et heure",
        "source": "Source",
        "event_id": "ID de l’événement",
        "task_category": "Catégorie de la tâche",
        "keywords": "Mots clés",
    },
    "es": {
        "level": "Nivel",
        "date": "Fecha y hora",
        "source": "Origen",
        "event_id": "Id. del evento",
        "task_category": "Categoría de la tarea",
        "keywords": "Palabras clave",
    },
    "it": {
        "level": "Livello",
        "date": "Data e ora",
        "source": "Origine",
        "event_id": "ID evento",
        "task_category": "Categoria attività",
        "keywords": "Parole chiave",
    },
    "pt-BR": {
        "level": "Nível",
        "date": "Data e Hora",
        "source": "Fonte",
        "event_id": "Identificação do Evento",
        "task_category": "Categoria da Tarefa",
        "keywords": "Palavras-chave",
    },
    "ru": {
        "level": "Уровень",
        "date": "Дата и время",
        "source": "Источник",
        "event_id": "Код события",
        "task_category": "Категория задачи",
        "keywords": "Ключевые слова",
    },
    "ja": {
        "level": "レベル",
        "date": "日付と時刻",
        "source": "ソース",
        "event_id": "イベント ID",
        "task_category": "タスクのカテゴリ",
        "keywords": "キーワード",
    },
    "zh-CN": {
        "level": "级别",
        "date": "日期和时间",
        "source": "来源",
        "event_id": "事件 ID",
        "task_category": "任务类别",
        "keywords": "关键字",
    },
    "zh-TW": {
        "level": "層級",
        "date": "日期和時間",
        "source": "來源",
        "event_id": "事件識別碼",
        "task_category": "工作類別",
        "keywords": "關鍵字",
    },
    "ko": {
        "level": "수준",
        "date": "날짜 및 시간",
        "source": "원본",
        "event_id": "이벤트 ID",
        "task_category": "태스크 범주",
        "keywords": "키워드",
    },
}

# Level names per display language (Event Viewer's Level column, PowerShell's LevelDisplayName).
LEVEL_NAMES: dict[str, dict[int, str]] = {
    "en": {1: "Critical", 2: "Error", 3: "Warning", 4: "Information", 5: "Verbose"},
    "de": {1: "Kritisch", 2: "Fehler", 3: "Warnung", 4: "Informationen", 5: "Ausführlich"},
    "fr": {1: "Critique", 2: "Erreur", 3: "Avertissement", 4: "Information", 5: "Commentaires"},
    "es": {1: "Crítico", 2: "Error", 3: "Advertencia", 4: "Información", 5: "Detalles"},
    "it": {1: "Critico", 2: "Errore", 3: "Avviso", 4: "Informazioni", 5: "Dettagli"},
    "pt-BR": {1: "Crítico", 2: "Erro", 3: "Aviso", 4: "Informações", 5: "Detalhado"},
    "ru": {1: "Критический", 2: "Ошибка", 3: "Предупреждение", 4: "Сведения", 5: "Подробности"},
    "ja": {1: "重大", 2: "エラー", 3: "警告", 4: "情報", 5: "詳細"},
    "zh-CN": {1: "关键", 2: "错误", 3: "警告", 4: "信息", 5: "详细"},
    "zh-TW": {1: "重大", 2: "錯誤", 3: "警告", 4: "資訊", 5: "詳細資料"},
    "ko": {1: "위험", 2: "오류", 3: "경고", 4: "정보", 5: "자세한 정보"},
}
# Shown instead of a level in the Security log's view (its Keywords column), and other spellings.
_MORE_LEVELS = {
    "Informations": 4,
    "Audit Success": 0,
    "Audit Failure": 0,
    "Überwachung erfolgreich": 0,
    "Überwachung gescheitert": 0,
    "Succès de l’audit": 0,
    "Échec de l’audit": 0,
    "成功の監査": 0,
    "失敗の監査": 0,
    "审核成功": 0,
    "审核失败": 0,
}
LEVELS: dict[str, int] = {name.casefold(): n for per in LEVEL_NAMES.values() for n, name in per.items()}
LEVELS.update({name.casefold(): n for name, n in _MORE_LEVELS.items()})

# 12-hour clock designators, as Windows writes them (before or after the time).
PM = ("pm", "p.m.", "p. m.", "下午", "午後", "오후", "nachm.")
AM = ("am", "a.m.", "a. m.", "上午", "午前", "오전", "vorm.")


def fold(label: str) -> str:
    """A label in the form labels are compared in: NFC, case-folded, one apostrophe, no spaces
    before a colon, no bidirectional marks."""
    text = unicodedata.normalize("NFC", label).replace("’", "'").replace("\u200e", "").replace("\u200f", "")
    text = re.sub(r"[ \u00a0\u202f]+:", ":", text.strip())
    return re.sub(r"\s+", " ", text).casefold()


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, str], re.Pattern[str]]:
    """Folded label -> field for details blocks and for CSV columns, and the regex of a details
    line's label: built on first use (compiling them costs start-up time most runs do not need)."""
    details = {fold(label): name for per in DETAILS.values() for name, label in per.items()}
    details.update({fold(label): name for label, name in _DETAILS_EXTRA.items()})
    columns = {fold(label): name for per in COLUMNS.values() for name, label in per.items()}
    # A details line: a known label, then the value (labels are padded to 15 characters, or not at all).
    alternatives = sorted(
        (
            re.escape(label[:-1].strip()).replace(r"\ ", r"\s+").replace("’", "['’]") + r"[ \u00a0\u202f]*:"
            for per in DETAILS.values()
            for label in per.values()
        ),
        key=len,
        reverse=True,
    )
    pattern = re.compile("|".join(alternatives + [re.escape(label) for label in _DETAILS_EXTRA]), re.IGNORECASE)
    return details, columns, pattern


# `wevtutil qe /f:text` writes the same labels (English), indented, each event under `Event[N]:`.
WEVTUTIL_EVENT = re.compile(r"^Event\[\d+\]:\s*$")


def detail_label(line: str) -> tuple[str, str] | None:
    """(field, value) of a details line such as `Event ID:      31001`, or None."""
    details, _, pattern = _tables()
    stripped = line.lstrip("\ufeff \t>*").replace("**", "")
    match = pattern.match(stripped)
    if match is None:
        return None
    field = details.get(fold(match.group(0)))
    return (field, stripped[match.end() :].strip()) if field else None


def looks_like_details(text: str) -> bool:
    """True when a text starts like a "Copy details as text" block: its first non-empty line is the
    log name label and a source or date label follows within a few lines."""
    seen: list[str] = []
    for line in text.splitlines():
        if not line.strip() or WEVTUTIL_EVENT.match(line):
            continue
        found = detail_label(line)
        if found is None:
            return False
        seen.append(found[0])
        if len(seen) == 3:
            break
    return bool(seen) and seen[0] == "log_name" and ("source" in seen or "date" in seen)


def eventviewer_header(header: list[str]) -> dict[str, int] | None:
    """Field -> column of an Event Viewer CSV/text header in any known language, or None when it
    is not one (it must name at least the date, source and event id columns)."""
    columns = _tables()[1]
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        field = columns.get(fold(name.lstrip("\ufeff")))
        if field is not None and field not in found:
            found[field] = index
    return found if {"date", "source", "event_id"} <= found.keys() else None


def level_number(name: str) -> int | None:
    return LEVELS.get(name.strip().casefold())
