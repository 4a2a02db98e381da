"""Loading the SLOs: OpenSLO v1 YAML files (kinds SLI and SLO) plus this engine's annotations.

Every problem fails loudly with the file, the field and the reason (``SloConfigError``).
Annotations (strings, as OpenSLO requires) carry what OpenSLO cannot say:

- ``serverless-sre/burn-rate-tiers``: YAML list of ``{name, severity: page|ticket, burnRate,
  longWindow, shortWindow, runbook}`` (runbook defaults to ``slo-<name>.md``, which must exist
  in runbooks/), written for a 30-day period (the SRE Workbook table); for other
  periods the windows are scaled by period/30d (at least 5m) and the burn rates kept, so each
  tier still means "this share of the budget spent this fast". Default: ``DEFAULT_TIERS``.
- ``serverless-sre/min-events``: fewer valid events in a tier's long window is
  "insufficient data", never an alert (default 100).
- ``serverless-sre/budget-policy``: YAML ``{warningBelow: 0.25, freezeReleasesWhen: exhausted}``.
- ``serverless-sre/fallback-indicator``: the SLI to use where the indicator's metric source
  is not configured (the local stack has no API Gateway metrics).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from chalicelib.settings import Settings
from chalicelib.slo import schema
from chalicelib.slo.sources import SOURCE_TYPES, MetricRef, MetricSource
from chalicelib.slo.timeutil import duration_minutes, format_minutes

BASE_PERIOD_MINUTES = 30 * 1440
MIN_SCALED_WINDOW_MINUTES = 5
DEFAULT_MIN_EVENTS = 100
DEFAULT_TIERS: tuple[dict[str, Any], ...] = (
    {"name": "page-fast", "severity": "page", "burnRate": 14.4, "longWindow": "1h", "shortWindow": "5m"},
    {"name": "page-slow", "severity": "page", "burnRate": 6, "longWindow": "6h", "shortWindow": "30m"},
    {"name": "ticket-fast", "severity": "ticket", "burnRate": 3, "longWindow": "1d", "shortWindow": "2h"},
    {"name": "ticket-slow", "severity": "ticket", "burnRate": 1, "longWindow": "3d", "shortWindow": "6h"},
)
REPO_ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO_ROOT / "runbooks"


class SloConfigError(ValueError):
    def __init__(self, file: str, field_path: str, reason: str) -> None:
        super().__init__(f"{file}: {field_path or '(document)'}: {reason}")
        self.file, self.field, self.reason = file, field_path, reason


@dataclass(frozen=True)
class Indicator:
    name: str
    total: MetricSource
    good: Optional[MetricSource] = None
    bad: Optional[MetricSource] = None

    def sources(self) -> tuple[MetricSource, ...]:
        return tuple(source for source in (self.good, self.bad, self.total) if source is not None)

    def metrics(self) -> tuple[MetricRef, ...]:
        return tuple(ref for source in self.sources() for ref in source.metrics())

    def is_configured(self) -> bool:
        return all(source.is_configured() for source in self.sources())

    def ratio_counts(self, sums: Mapping[MetricRef, float]) -> Optional[tuple[int, int]]:
        """(good, total) events of one minute; None when the total has no data that minute."""
        total = self.total.count(sums)
        if total is None:
            return None
        if self.good is not None:
            good = self.good.count(sums) or 0.0
        else:
            good = total - (self.bad.count(sums) or 0.0)
        total_events = max(0, round(total))
        # Late or partial data can briefly disagree; never report more good than total.
        return min(max(0, round(good)), total_events), total_events


@dataclass(frozen=True)
class BurnRateTier:
    name: str
    severity: str
    burn_rate: float
    long_minutes: int
    short_minutes: int
    runbook: str = ""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity, "burn_rate": self.burn_rate,
                "long_window": format_minutes(self.long_minutes), "short_window": format_minutes(self.short_minutes),
                "runbook": self.runbook}


@dataclass(frozen=True)
class BudgetPolicy:
    warning_below: float = 0.25
    freeze_releases_when: str = "exhausted"


@dataclass(frozen=True)
class SloDefinition:
    name: str
    display_name: str
    description: str
    service: str
    target: float
    period_minutes: int
    budgeting_method: str  # Occurrences | Timeslices
    indicator: Indicator
    tiers: tuple[BurnRateTier, ...]
    min_events: int = DEFAULT_MIN_EVENTS
    policy: BudgetPolicy = field(default_factory=BudgetPolicy)
    time_slice_target: float = 1.0
    source_file: str = ""

    @property
    def timeslices(self) -> bool:
        return self.budgeting_method == "Timeslices"

    @property
    def unit(self) -> str:
        return "minutes" if self.timeslices else "events"

    def minute_counts(self, sums: Mapping[MetricRef, float]) -> Optional[tuple[int, int]]:
        """(good, valid) of one minute; a time slice is one event, good when its ratio meets the target."""
        counts = self.indicator.ratio_counts(sums)
        if counts is None or not self.timeslices:
            return counts
        good, total = counts
        if total == 0:
            return None
        return (1 if good / total >= self.time_slice_target else 0), 1

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "display_name": self.display_name, "description": self.description,
            "service": self.service, "target": self.target, "period": format_minutes(self.period_minutes),
            "budgeting_method": self.budgeting_method, "unit": self.unit, "indicator": self.indicator.name,
            "sources": [source.describe() for source in self.indicator.sources()],
            "min_events": self.min_events, "tiers": [tier.describe() for tier in self.tiers],
            "budget_policy": {"warning_below": self.policy.warning_below,
                              "freeze_releases_when": self.policy.freeze_releases_when},
        }


def scaled_tiers(raw_tiers: Iterable[Mapping[str, Any]], period_minutes: int) -> tuple[BurnRateTier, ...]:
    factor = period_minutes / BASE_PERIOD_MINUTES

    def scale(window: str) -> int:
        minutes = duration_minutes(window)
        return minutes if factor == 1 else max(MIN_SCALED_WINDOW_MINUTES, round(minutes * factor))

    tiers = [BurnRateTier(name=raw["name"], severity=raw["severity"], burn_rate=float(raw["burnRate"]),
                          long_minutes=scale(raw["longWindow"]), short_minutes=scale(raw["shortWindow"]),
                          runbook=raw.get("runbook") or f"slo-{raw['name']}.md")
             for raw in raw_tiers]
    # Fastest first: a firing tier suppresses the ones after it.
    return tuple(sorted(tiers, key=lambda tier: (tier.long_minutes, -tier.burn_rate)))


class _Loader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.indicators: dict[str, tuple[str, str, dict[str, Any]]] = {}  # name -> (file, path, doc)
        self.slo_docs: list[tuple[str, int, dict[str, Any]]] = []
        self.names: dict[str, str] = {}

    def read_file(self, path: Path) -> None:
        import yaml  # PyYAML: only the loader needs it

        file = str(path)
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise SloConfigError(file, "", f"not valid YAML: {exc}") from None
        for index, document in enumerate(documents):
            if document is None:
                continue
            where = f"document[{index}]"
            if not isinstance(document, dict):
                raise SloConfigError(file, where, "must be a mapping with apiVersion, kind, metadata, spec")
            kind = document.get("kind")
            if kind == "SLI":
                _validate(document, schema.SLI_DOCUMENT, file, where)
                self._claim(file, where, "SLI", document["metadata"]["name"])
                self.indicators[document["metadata"]["name"]] = (file, where, document)
            elif kind == "SLO":
                _validate(document, schema.SLO_DOCUMENT, file, where)
                self._claim(file, where, "SLO", document["metadata"]["name"])
                self.slo_docs.append((file, index, document))
            else:
                raise SloConfigError(file, f"{where}.kind", f"must be SLO or SLI, not {kind!r}")

    def _claim(self, file: str, where: str, kind: str, name: str) -> None:
        key = f"{kind}/{name}"
        if key in self.names:
            raise SloConfigError(file, f"{where}.metadata.name", f"{kind} {name!r} is already defined in "
                                                                 f"{self.names[key]}")
        self.names[key] = file

    def build_indicator(self, file: str, where: str, name: str, spec: Mapping[str, Any]) -> Indicator:
        ratio = spec["ratioMetric"]
        sources = {}
        for role in ("good", "bad", "total"):
            if role not in ratio:
                continue
            path = f"{where}.spec.ratioMetric.{role}.metricSource"
            raw = ratio[role]["metricSource"]
            source_type = SOURCE_TYPES.get(raw["type"])
            if source_type is None:
                raise SloConfigError(file, f"{path}.type", f"unknown metric source {raw['type']!r}; "
                                                           f"known: {', '.join(sorted(SOURCE_TYPES))}")
            _validate(raw["spec"], source_type.spec_schema, file, f"{path}.spec")
            source = source_type(raw["spec"], self.settings)
            problem = source.problem()
            if problem:
                raise SloConfigError(file, f"{path}.spec", problem)
            sources[role] = source
        return Indicator(name=name, **sources)

    def indicator(self, file: str, where: str, name: str) -> Indicator:
        if name not in self.indicators:
            known = ", ".join(sorted(self.indicators)) or "none"
            raise SloConfigError(file, where, f"unknown indicator {name!r}; known SLIs: {known}")
        sli_file, sli_where, document = self.indicators[name]
        return self.build_indicator(sli_file, sli_where, name, document["spec"])

    def build_slo(self, file: str, index: int, document: dict[str, Any]) -> SloDefinition:
        where = f"document[{index}]"
        metadata, spec = document["metadata"], document["spec"]
        annotations = metadata.get("annotations", {})
        notes = f"{where}.metadata.annotations"
        if "indicator" in spec:
            indicator = self.build_indicator(file, f"{where}.spec.indicator", spec["indicator"]["metadata"]["name"],
                                             spec["indicator"]["spec"])
        else:
            indicator = self.indicator(file, f"{where}.spec.indicatorRef", spec["indicatorRef"])
        fallback_name = annotations.get(schema.ANNOTATIONS["fallback"])
        if fallback_name is not None:
            fallback = self.indicator(file, f"{notes}.{schema.ANNOTATIONS['fallback']}", fallback_name)
            if not fallback.is_configured():
                raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['fallback']}",
                                     f"fallback indicator {fallback_name!r} is not configured here either")
            if not indicator.is_configured():
                indicator = fallback
        if not indicator.is_configured():
            raise SloConfigError(file, where, f"indicator {indicator.name!r} needs a metric source that is not "
                                              f"configured here (see its source's settings) and has no fallback")
        period = duration_minutes(spec["timeWindow"][0]["duration"])
        objective = spec["objectives"][0]
        if spec["budgetingMethod"] == "Timeslices" and "timeSliceWindow" not in objective:
            raise SloConfigError(file, f"{where}.spec.objectives[0].timeSliceWindow",
                                 "required for Timeslices (only 1m is supported)")
        tiers_raw = _yaml_annotation(annotations, "tiers", schema.BURN_RATE_TIERS, file, notes)
        if tiers_raw is not None:
            for position, tier in enumerate(tiers_raw):
                for key in ("longWindow", "shortWindow"):
                    if duration_minutes(tier[key]) > period:
                        raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['tiers']}[{position}].{key}",
                                             "window is longer than the SLO period")
                if duration_minutes(tier["shortWindow"]) >= duration_minutes(tier["longWindow"]):
                    raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['tiers']}[{position}].shortWindow",
                                         "must be shorter than longWindow")
                runbook = tier.get("runbook") or f"slo-{tier['name']}.md"
                if RUNBOOKS.is_dir() and not (RUNBOOKS / runbook).is_file():
                    raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['tiers']}[{position}].runbook",
                                         f"runbook {runbook!r} does not exist in runbooks/")
            tier_names = [tier["name"] for tier in tiers_raw]
            if len(set(tier_names)) != len(tier_names):
                raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['tiers']}", "tier names must be unique")
        policy_raw = _yaml_annotation(annotations, "policy", schema.BUDGET_POLICY, file, notes) or {}
        min_events_text = annotations.get(schema.ANNOTATIONS["min_events"])
        min_events = DEFAULT_MIN_EVENTS
        if min_events_text is not None:
            if not min_events_text.strip().isdigit():
                raise SloConfigError(file, f"{notes}.{schema.ANNOTATIONS['min_events']}",
                                     f"must be a whole number, not {min_events_text!r}")
            min_events = int(min_events_text)
        unknown = sorted(key for key in annotations if key.startswith(schema.ANNOTATION_PREFIX)
                         and key not in schema.ANNOTATIONS.values())
        if unknown:
            raise SloConfigError(file, f"{notes}.{unknown[0]}",
                                 f"unknown annotation; known: {', '.join(sorted(schema.ANNOTATIONS.values()))}")
        return SloDefinition(
            name=metadata["name"], display_name=metadata.get("displayName", metadata["name"]),
            description=spec.get("description", ""), service=spec["service"], target=float(objective["target"]),
            period_minutes=period, budgeting_method=spec["budgetingMethod"], indicator=indicator,
            tiers=scaled_tiers(tiers_raw if tiers_raw is not None else DEFAULT_TIERS, period),
            min_events=min_events,
            policy=BudgetPolicy(warning_below=float(policy_raw.get("warningBelow", 0.25)),
                                freeze_releases_when=policy_raw.get("freezeReleasesWhen", "exhausted")),
            time_slice_target=float(objective.get("timeSliceTarget", 1.0)), source_file=file)


def _validate(instance: Any, schema_doc: Mapping[str, Any], file: str, where: str) -> None:
    import jsonschema  # only the loader validates

    validator = jsonschema.Draft202012Validator(schema_doc)
    errors = sorted(validator.iter_errors(instance), key=lambda error: (len(error.absolute_path), str(error.path)))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        path = where + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        raise SloConfigError(file, path, error.message)


def _yaml_annotation(annotations: Mapping[str, str], key: str, schema_doc: Mapping[str, Any],
                     file: str, notes: str) -> Any:
    import yaml

    name = schema.ANNOTATIONS[key]
    if name not in annotations:
        return None
    try:
        value = yaml.safe_load(annotations[name])
    except yaml.YAMLError as exc:
        raise SloConfigError(file, f"{notes}.{name}", f"not valid YAML: {exc}") from None
    _validate(value, schema_doc, file, f"{notes}.{name}")
    return value


def slo_directory(settings: Settings) -> Path:
    return Path(settings.slo.slo_dir) if settings.slo.slo_dir else REPO_ROOT / "slos"


def load_slos(directory: Optional[Path] = None, settings: Optional[Settings] = None) -> tuple[SloDefinition, ...]:
    """Every SLO in ``directory`` (default: the configured one), in file order; raises SloConfigError.

    ``settings`` say which metric sources are configured (default: the environment's).
    """
    settings = settings or Settings.from_env()
    directory = Path(directory) if directory is not None else slo_directory(settings)
    if not directory.is_dir():
        raise SloConfigError(str(directory), "", "SLO directory does not exist")
    loader = _Loader(settings)
    files = sorted(path for pattern in ("*.yaml", "*.yml") for path in directory.glob(pattern))
    for path in files:
        loader.read_file(path)
    if not loader.slo_docs:
        raise SloConfigError(str(directory), "", "no SLO documents found")
    return tuple(loader.build_slo(file, index, document) for file, index, document in loader.slo_docs)


def find_slo(slos: Iterable[SloDefinition], name: str) -> Optional[SloDefinition]:
    return next((slo for slo in slos if slo.name == name), None)
