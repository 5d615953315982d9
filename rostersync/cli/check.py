"""``rostersync check``: test a district's OneRoster credentials and say what to fix.

Every option has an environment twin (``ROSTERSYNC_CLIENT_SECRET``...) so
secrets need not appear on a command line. Human output is a Rich table;
``--json`` prints the report for scripts. The exit code is 1 when any finding
is an error.
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..source.check import CheckReport, run_check

_STYLE = {"ok": ("✓", "green"), "warning": ("!", "yellow"), "error": ("✗", "bold red")}
OAUTH2 = "OAuth 2.0 (Infinite Campus New Look)"
OAUTH1 = "OAuth 1.0a (Classic and other providers)"


def _opt(flag: str, env: str, help: str, *, panel: str | None = None):
    return typer.Option(None, flag, envvar=f"ROSTERSYNC_{env}", help=help, show_default=False,
                        rich_help_panel=panel)


def check(
    client_id: Optional[str] = _opt("--client-id", "CLIENT_ID", "Client ID.", panel=OAUTH2),
    client_secret: Optional[str] = _opt("--client-secret", "CLIENT_SECRET",
                                        "Client Secret (prefer the environment variable).", panel=OAUTH2),
    token_url: Optional[str] = _opt("--token-url", "TOKEN_URL", "Token URL (…/campus/oauth2/token?appName=…).",
                                    panel=OAUTH2),
    base_url: Optional[str] = _opt("--base-url", "BASE_URL", "Base URL (…/campus/api/oneroster/…).", panel=OAUTH2),
    scope: Optional[str] = _opt("--scope", "SCOPE", "OAuth 2.0 scopes, space-separated (optional).", panel=OAUTH2),
    consumer_key: Optional[str] = _opt("--consumer-key", "CONSUMER_KEY", "Consumer Key.", panel=OAUTH1),
    consumer_secret: Optional[str] = _opt("--consumer-secret", "CONSUMER_SECRET",
                                          "Consumer Secret (prefer the environment variable).",
                                          panel=OAUTH1),
    oneroster_url: Optional[str] = _opt("--oneroster-url", "ONEROSTER_URL", "OneRoster URL.", panel=OAUTH1),
    signature_method: Optional[str] = _opt("--signature-method", "SIGNATURE_METHOD",
                                           "HMAC-SHA256 (default) or HMAC-SHA1.", panel=OAUTH1),
    expires_on: Optional[str] = _opt("--expires-on", "EXPIRES_ON", "Token expiration date (YYYY-MM-DD).",
                                     panel=OAUTH1),
    version: Optional[str] = _opt("--version", "ONEROSTER_VERSION",
                                  "OneRoster version, 1.1 or 1.2 (default: from the URL)."),
    profile: Optional[str] = _opt("--profile", "PROFILE", "Vendor profile: infinite_campus (default) or generic."),
    timeout: float = typer.Option(15.0, "--timeout", envvar="ROSTERSYNC_HTTP_TIMEOUT",
                                  help="Seconds before one request times out."),
    as_json: bool = typer.Option(False, "--json", envvar="ROSTERSYNC_JSON", help="Print the findings as JSON."),
) -> None:
    """Check OneRoster credentials: token, Base URL, every collection, demographics, version, clock."""
    inputs = {
        "client_id": client_id, "client_secret": client_secret, "token_url": token_url, "base_url": base_url,
        "scope": scope, "consumer_key": consumer_key, "consumer_secret": consumer_secret,
        "oneroster_url": oneroster_url, "signature_method": signature_method, "expires_on": expires_on,
        "version": version, "profile": profile,
    }
    report = run_check({k: v for k, v in inputs.items() if v is not None}, timeout=timeout)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        render(report, Console())
    if not report.ok:
        raise typer.Exit(1)


def render(report: CheckReport, console: Console) -> None:
    """The report as Rich tables: findings with their fixes, then counts."""
    findings = Table(title="Connection check", show_lines=True, expand=False)
    findings.add_column("", width=1)
    findings.add_column("Finding", ratio=1)
    findings.add_column("What to do", ratio=1)
    for finding in report.findings:
        mark, style = _STYLE.get(finding.level, ("?", ""))
        what = Text(finding.title, style=style if finding.level != "ok" else "")
        if finding.detail:
            what.append("\n" + finding.detail, style="dim")
        findings.add_row(Text(mark, style=style), what, finding.fix)
    console.print(findings)
    if report.counts:
        counts = Table(title="Records shared", show_header=True)
        counts.add_column("Collection")
        counts.add_column("Records", justify="right")
        for name, count in report.counts.items():
            counts.add_row(name, f"{count:,}" + ("+" if name in report.inexact else ""))
        console.print(counts)
    facts = []
    if report.version:
        facts.append(f"OneRoster {report.version.value}")
    if report.clock_skew is not None:
        facts.append(f"clock skew {report.clock_skew:+.0f} s")
    errors = len(report.errors)
    verdict = "[green]Everything needed works.[/green]" if report.ok else (
        f"[bold red]{errors} problem{'s' if errors != 1 else ''} to fix.[/bold red]")
    console.print(verdict + (f" ({', '.join(facts)})" if facts else ""))

