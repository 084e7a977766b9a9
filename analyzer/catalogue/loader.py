"""Read the catalogue: codes/ shipped in the package, plus any `--codes DIR` overrides, into a
`Catalogue`. Every problem is collected as `file: key: problem` and raised together in one
CatalogueError. Files in an override directory replace shipped files with the same id (entries,
signatures, causes) and add new ones.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.catalogue import model as m
from analyzer.catalogue import parse, tables
from analyzer.catalogue.catalogue import PLACEHOLDER, Catalogue, index_key
from analyzer.catalogue.check import example_problems
from analyzer.catalogue.parse import Checker
from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["Catalogue", "CatalogueError", "check", "example_problems", "load", "write_sidecar"]


class CatalogueError(AnalyzerError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid catalogue:\n  " + "\n  ".join(problems))
        self.problems = problems


def _sources(root: Traversable | Path) -> list[tuple[str, str]]:
    """(path under root, text) of every YAML file, in name order; `_`-prefixed files are templates."""
    found: list[tuple[str, str]] = []

    def walk(node: Traversable | Path, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{prefix}/{child.name}" if prefix else child.name
            if child.is_dir():
                walk(child, name)
            elif child.name.endswith((".yaml", ".yml")) and not child.name.startswith("_"):
                found.append((name, child.read_text(encoding="utf-8")))

    walk(root, "")
    return found


# Files of one table each, at the top of codes/ (keyed by their name without .yaml).
TABLES = ("providers.yaml", "clouds.yaml", "clusters.yaml", "checklist.yaml", "sspr-codes.yaml")


def _documents(
    sources: list[tuple[str, str]], problems: list[str], shown: str = ""
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every YAML mapping of causes/, events/, signatures/ (keyed by id), phrases/ (by language), and the
    tables at the top (TABLES, by name)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, text in sources:
        try:
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError as exc:
            problems.append(f"{shown}{name}: -: not valid YAML ({type(exc).__name__})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{shown}{name}: -: must be a mapping")
            continue
        kind = name.split("/", 1)[0]
        if name in TABLES:
            key = name.removesuffix(".yaml")
        else:
            key = f"{kind}:{data.get('lang') if kind == 'phrases' else data.get('id')}"
        found[key] = (name, data)
    return found


# The shipped YAML, already parsed, as JSON (about ten times quicker to read than the YAML). Used
# only while it matches the YAML byte for byte; `python -m analyzer.catalogue.loader` rewrites it
# and a test fails when it is stale.
SIDECAR = "catalogue.json"


def _digest(sources: list[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def _shipped(problems: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    root = files("analyzer.codes")
    sources = _sources(root)
    try:
        cached = json.loads(root.joinpath(SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    if cached.get("digest") == _digest(sources):
        return {key: (name, data) for key, (name, data) in cached["documents"].items()}
    return _documents(sources, problems)


def write_sidecar(root: Path) -> Path:
    """Parse the YAML under `root` (codes/) and write it as the JSON sidecar next to it."""
    problems: list[str] = []
    sources = _sources(root)
    documents = _documents(sources, problems)
    if problems or json.loads(json.dumps(documents)) != {k: list(v) for k, v in documents.items()}:
        raise CatalogueError(problems or ["the catalogue does not survive a JSON round trip"])
    target = root / SIDECAR
    target.write_text(json.dumps({"digest": _digest(sources), "documents": documents}, sort_keys=True) + "\n")
    return target


def load(extra: Path | None = None, shipped: bool = True) -> Catalogue:
    """The shipped catalogue, overlaid with `extra` (a directory laid out like codes/)."""
    problems: list[str] = []
    documents: dict[str, tuple[str, dict[str, Any]]] = {}
    if shipped:
        documents.update(_shipped(problems))
    if extra is not None:
        if not extra.is_dir():
            raise CatalogueError([f"{extra}: -: not a directory"])
        found = _documents(_sources(extra), problems, f"{extra}/")
        documents.update({k: (str(extra / n), d) for k, (n, d) in found.items()})
    catalogue = Catalogue()
    digest = hashlib.sha256(json.dumps(sorted(documents.items()), sort_keys=True, default=str).encode())
    catalogue.version = f"{len(documents)}-{digest.hexdigest()[:12]}"
    entries: list[m.Entry] = []
    # First what entries refer to (phrases, clouds, causes, providers), then the entries.
    ordered = sorted(documents.items(), key=lambda item: (item[0].startswith(("events:", "signatures:")), item[0]))
    for key, (source, data) in ordered:
        check = Checker(source, problems)
        if key == "providers":
            for provider, spec in (data.get("providers") or {}).items():
                policy = spec.get("unknown") if isinstance(spec, dict) else None
                if policy not in ("report", "ignore"):
                    check.fail(f"providers.{provider}.unknown", "must be report or ignore")
                catalogue.providers[provider] = policy or "ignore"
        elif key == "clouds":
            catalogue.clouds = parse.read_clouds(data, check)
        elif key == "clusters":
            catalogue.clusters = parse.read_clusters(data, check)
        elif key == "checklist":
            catalogue.checklist = tables.checklist(data, check)
        elif key == "sspr-codes":
            catalogue.user_codes = tables.user_codes(data, check)
        elif key.startswith("phrases:"):
            catalogue.phrases[key.removeprefix("phrases:")] = parse.read_phrases(data, check)
        elif key.startswith("causes:"):
            cause = parse.read_cause(data, check)
            if cause:
                catalogue.causes[cause.id] = cause
        elif key.startswith(("events:", "signatures:")):
            entry = parse.read_entry(data, check, catalogue.phrases)
            if entry:
                entries.append(entry)
        else:
            check.fail("-", "outside causes/, events/, signatures/ and phrases/")
    _index(catalogue, entries, problems)
    _check_references(catalogue, problems)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def check(directory: Path) -> Catalogue:
    """`wba codes check DIR`: a whole catalogue (it has providers.yaml) is checked alone, anything else
    as an overlay of the shipped one; its examples must all behave as their entries say."""
    catalogue = load(directory, shipped=not (directory / "providers.yaml").is_file())
    problems = example_problems(catalogue)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def _check_references(catalogue: Catalogue, problems: list[str]) -> None:
    """Placeholders in fixes name a cloud value; checklist items and causes named exist; every message
    and phrase file is used and known."""
    allowed = {"namespace"} | {name for cloud in catalogue.clouds.values() for name in cloud.values}
    tables.references(catalogue, problems)
    for cause in catalogue.causes.values():
        for other in cause.refines:
            if other not in catalogue.causes:
                problems.append(f"{cause.source}: refines: unknown cause {other!r}")
        for i, fix in enumerate(cause.fixes):
            for lang in m.LANGS:
                for name in PLACEHOLDER.findall(fix.get(lang)):
                    if name not in allowed:
                        problems.append(f"{cause.source}: fixes[{i}]: unknown placeholder {{{name}}}")
    for cluster in catalogue.clusters:
        if cluster.cause not in catalogue.causes:
            problems.append(f"clusters.yaml: {cluster.id}.cause: unknown cause {cluster.cause!r}")
    used = {c.message for e in catalogue.all_entries() for r in e.rules for c in r.clues if c.message}
    english = catalogue.phrases.get("en", {})
    for message, variants in english.items():
        if message not in used:
            problems.append(f"{variants[0].file}: messages.{message}: no rule names this message")
    for messages in catalogue.phrases.values():
        for message, variants in messages.items():
            if message not in english:
                problems.append(f"{variants[0].file}: messages.{message}: not a message of phrases/en.yaml")
            elif english[message][0].untranslated and variants[0].lang != "en":
                problems.append(f"{variants[0].file}: messages.{message}: written in English everywhere (en.yaml)")


def _index(catalogue: Catalogue, entries: list[m.Entry], problems: list[str]) -> None:
    seen_ids: dict[str, str] = {}
    entries = sorted(entries, key=lambda e: (e.generic, e.id))  # generic signatures are tried last
    for entry in entries:
        if entry.id in seen_ids:
            problems.append(f"{entry.source}: id: duplicate of {seen_ids[entry.id]}")
            continue
        seen_ids[entry.id] = entry.source
        for i, rule in enumerate(entry.rules):
            if rule.cause not in catalogue.causes:
                problems.append(f"{entry.source}: causes[{i}].cause: unknown cause {rule.cause!r}")
        for cause in entry.dates:
            if cause not in catalogue.causes:
                problems.append(f"{entry.source}: dates: unknown cause {cause!r}")
        if entry.is_signature:
            catalogue.signatures.append(entry)
            continue
        key = index_key(entry.provider or "", entry.event_id or 0)
        if key in catalogue.entries:
            other = catalogue.entries[key].source
            problems.append(f"{entry.source}: event_id: {entry.provider} {entry.event_id} is also in {other}")
            continue
        catalogue.entries[key] = entry


if __name__ == "__main__":  # python -m analyzer.catalogue.loader: refresh codes/catalogue.json
    print(write_sidecar(Path(__file__).resolve().parents[2] / "codes"))
