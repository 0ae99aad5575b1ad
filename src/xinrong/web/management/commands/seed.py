"""`xinrong seed --scale demo|city|province --seed N`: load deterministic demo data."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinrong.web.seed import DEMO_PASSWORD, SCALES, demo_logins, seed


class Command(BaseCommand):
    help = "Load deterministic demo data (a second run with the same arguments adds nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
        parser.add_argument("--seed", type=int, default=20221)

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.perf_counter()
        try:
            report = seed(
                scale=options["scale"],
                seed_value=options["seed"],
                progress=lambda m: self.stdout.write(f"  {m}"),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - start
        self.stdout.write(
            self.style.SUCCESS(
                f"seed {options['scale']} (seed {options['seed']}): "
                f"{report.entities} entities, {report.persons} persons, "
                f"{report.relationships} relationships "
                f"({report.guarantees} guarantees), {report.facts} facts, "
                f"{report.scored} entities scored, {report.products} products, "
                f"{report.demands} demands, {report.applications} loan applications "
                f"({report.loans} loans), "
                f"{report.organisations} organisations, "
                f"{report.users} users created in {elapsed:.1f}s"
            )
        )
        if report.timings:
            parts = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
            self.stdout.write(f"  timings: {parts}")
        logins = demo_logins()
        if logins:
            self.stdout.write(f"demo logins (password {DEMO_PASSWORD}):")
            for role, username in logins:
                self.stdout.write(f"  {role:<12} {username}")
