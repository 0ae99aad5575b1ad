"""`xinrong model train|list|report|activate`: the credit scorecard's model registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.common.errors import SERVICE_ERRORS, error_payload
from xinrong.credit import tasks
from xinrong.credit.features import FEATURES_BY_NAME
from xinrong.credit.models import ScoreModel
from xinrong.credit.outcomes import PERIODS, PerformanceOverTime
from xinrong.credit.segments import model_cards
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import scoring as scoring_services


class Command(BaseCommand):
    help = "Train, list, report on and activate credit scoring models."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a new version (a draft)")
        train.add_argument("--seed", type=int, default=20221)
        train.add_argument("--name", default="")
        train.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        train.add_argument(
            "--outcomes",
            choices=scoring_services.OUTCOME_SOURCES,
            default="auto",
            help="platform: the platform's loan outcomes; synthetic: the documented synthetic "
            "process; auto (default): platform when there are enough outcomes, else synthetic",
        )
        train.add_argument("--base-points", type=float, default=600.0)
        train.add_argument("--base-odds", type=float, default=50.0)
        train.add_argument("--pdo", type=float, default=20.0)
        train.add_argument("--activate", action="store_true", help="activate it at once")
        sub.add_parser("list", help="list versions")
        report = sub.add_parser("report", help="bins, points, IV and metrics of a version")
        report.add_argument("--version", type=int, default=None, help="default: the active one")
        report.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="KS over time on the loan outcomes known at this date (default: today)",
        )
        report.add_argument("--period", choices=PERIODS, default="auto")
        activate = sub.add_parser("activate", help="activate a version")
        activate.add_argument("version", type=int)
        activate.add_argument("--note", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except SERVICE_ERRORS as exc:
            _status, body = error_payload(exc)
            raise CommandError(body["message"]) from exc

    def _get(self, version: int | None) -> ScoreModel:
        qs = ScoreModel.objects.all()
        model = (
            qs.filter(version=version).first() if version else qs.filter(status="active").first()
        )
        if model is None:
            raise CommandError(f"模型版本不存在 no such model: {version or 'active'}")
        return model

    def _train(self, options: dict[str, Any]) -> None:
        model = scoring_services.model_train(
            actor=None,
            name=options["name"],
            seed=options["seed"],
            as_of=options["as_of"],
            outcomes=options["outcomes"],
            base_points=options["base_points"],
            base_odds=options["base_odds"],
            pdo=options["pdo"],
        )
        m, t = model.metrics, model.training
        if t.get("fallback"):
            self.stdout.write(f"platform outcomes not used: {t['fallback']}")
        what = (
            f"platform loan outcomes ({t['rows']:,} loans of {t['entities']:,} entities, "
            f"disbursed {t['loans_from']}..{t['loans_to']}, {t['bads']:,} bad)"
            if m["outcomes"] == "platform"
            else f"synthetic outcomes ({t['entities']:,} entities)"
        )
        oracle = f" (oracle AUC {m['oracle_auc_test']:.3f})" if "oracle_auc_test" in m else ""
        self.stdout.write(
            f"model v{model.version} trained on {what}: "
            f"test AUC {m['auc_test']:.3f}, KS {m['ks_test']:.3f}{oracle}"
        )
        if options["activate"]:
            scoring_services.model_activate(
                model=model, actor=None, note="xinrong model train --activate"
            )
            self._activated(model)

    def _list(self, options: dict[str, Any]) -> None:
        for model in ScoreModel.objects.all():
            m = model.metrics
            self.stdout.write(
                f"v{model.version:<4} {model.status:<8} AUC {m.get('auc_test', 0):.3f} "
                f"KS {m.get('ks_test', 0):.3f}  {model.created_at:%Y-%m-%d %H:%M}  {model.name}"
            )

    def _report(self, options: dict[str, Any]) -> None:
        model = self._get(options["version"])
        cards = model_cards(model.card)
        card = cards.main
        self.stdout.write(f"model v{model.version} ({model.status}) {model.name}")
        self.stdout.write(
            f"scaling: {card.base_points:g} points at odds {card.base_odds:g}:1, PDO {card.pdo:g}"
        )
        for key, value in model.metrics.items():
            if key != "iv":
                self.stdout.write(f"  {key}: {value}")
        for dropped in model.training.get("correlated_dropped") or []:
            self.stdout.write(
                f"  dropped {dropped['feature']}: Spearman {dropped['rho']:+.2f} with "
                f"{dropped['kept']} (kept, higher IV)"
            )
        for key, segment_card in cards.items():
            if cards.segmented:
                self.stdout.write(f"\n=== card of segment {key} ===")
            self.stdout.write(f"intercept {segment_card.intercept:.4f}")
            shown = [*segment_card.features]
            if segment_card.segment is not None:
                shown.append(segment_card.segment)
            for f in shown:
                spec = FEATURES_BY_NAME.get(f.name)
                label = str(spec.label) if spec else f.name
                self.stdout.write(f"\n{f.name} {label}  IV {f.iv:.4f}  coef {f.coef:.4f}")
                for bin_label, count, rate, woe, pts in zip(
                    f.labels(), f.counts, f.event_rates, f.woe, f.points, strict=True
                ):
                    self.stdout.write(
                        f"  {bin_label:<24} n={count:<7} bad={rate:.3f} woe={woe:+.3f} "
                        f"points={pts:.1f}"
                    )
        self.stdout.write("\ngrades: " + ", ".join(f"{g} ≥ {v:g}" for g, v in card.bands))
        self._ks_over_time(
            scoring_selectors.model_performance(
                model=model, as_of=options["as_of"], period=options["period"]
            )
        )

    def _ks_over_time(self, result: PerformanceOverTime) -> None:
        if not result.periods:
            self.stdout.write("\nKS over time: no platform loan outcomes yet")
            return
        self.stdout.write(
            f"\nKS over time (by disbursement {result.period}, loans with a full performance "
            f"window by {result.as_of}, scored at their snapshot; KS needs "
            f"≥ {result.min_rows} rows and ≥ {result.min_bads} bad and good ones):"
        )
        head = ("period", "rows", "loans", "bads", "bad rate", "KS", "AUC")
        self.stdout.write("{:<8} {:>6} {:>6} {:>5} {:>8} {:>6} {:>6}".format(*head))
        for p in result.periods:
            rate = "-" if p.bad_rate is None else f"{p.bad_rate:.1%}"
            measured = (
                f"{p.ks:>6.3f} {p.auc:>6.3f}"
                if p.ks is not None and p.auc is not None
                else "too few outcomes"
            )
            self.stdout.write(
                f"{p.period:<8} {p.rows:>6} {p.loans:>6} {p.bads:>5} {rate:>8} {measured}"
            )

    def _activate(self, options: dict[str, Any]) -> None:
        model = scoring_services.model_activate(
            model=self._get(options["version"]), actor=None, note=options["note"]
        )
        self._activated(model)

    def _activated(self, model: ScoreModel) -> None:
        """Queue the full rescoring an activation needs, as the operator's page does."""
        tasks.rescore_all_schedule()
        self.stdout.write(
            f"model v{model.version} activated; full rescoring queued for the task worker "
            "(or run `xinrong score --all` now)"
        )
