"""`ops-monitor`: run the ops monitoring service and talk to it from a terminal."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from ops_monitor.commands.config import config_command
from ops_monitor.commands.cron import cron
from ops_monitor.commands.ingest import ingest_command
from ops_monitor.commands.issues import issues_command, resolve_command
from ops_monitor.commands.scan import scan_command
from ops_monitor.commands.scheduler import scheduler
from ops_monitor.commands.serve import serve
from ops_monitor.commands.templates import templates_command

EXAMPLES = """\b
Examples:
  ops-monitor serve --db sqlite:///ops.db --port 8787
  ops-monitor ingest tail.json --format wrangler
  ops-monitor scan --scope full
"""


class UsageProblem(Exception):
    """Bad input or configuration: printed as one line, exit 2."""


@click.group(epilog=EXAMPLES)
@click.version_option(package_name="readiness-toolkit", prog_name="ops-monitor")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """The ops monitoring service: ingest logs, file issues, scan on a schedule."""


cli.add_command(templates_command)
cli.add_command(serve)
cli.add_command(scheduler)
cli.add_command(cron)
cli.add_command(scan_command)
cli.add_command(issues_command)
cli.add_command(resolve_command)
cli.add_command(ingest_command)
cli.add_command(config_command)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="ops-monitor", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.UsageError as error:
        click.echo(f"ops-monitor: error: {' '.join(error.format_message().split())}", err=True)
        return 2
    except click.ClickException as error:
        click.echo(f"ops-monitor: error: {' '.join(error.format_message().split())}", err=True)
        return error.exit_code
    except UsageProblem as error:
        click.echo(f"ops-monitor: error: {error}", err=True)
        return 2
    except Exception as error:
        if debug:
            traceback.print_exc()
        click.echo(f"ops-monitor: internal error: {type(error).__name__}: {error}", err=True)
        return 3
    return result if isinstance(result, int) else 0
