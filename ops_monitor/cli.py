"""`ops-monitor`: run the ops monitoring service and talk to it from a terminal."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

import click

# name -> "module:attribute". Commands are imported only when used: the service's modules
# (SQLAlchemy, FastAPI) cost seconds to import, which `ops-monitor templates` or `--help`
# of one command should not pay.
COMMANDS = {
    "alerts": "ops_monitor.commands.alerts:alerts_group",
    "config": "ops_monitor.commands.config:config_command",
    "cron": "ops_monitor.commands.cron:cron",
    "ingest": "ops_monitor.commands.ingest:ingest_command",
    "issues": "ops_monitor.commands.issue_show:issues_group",
    "logs": "ops_monitor.commands.logs:logs_command",
    "monitors": "ops_monitor.commands.monitors:monitors",
    "resolve": "ops_monitor.commands.issues:resolve_command",
    "scan": "ops_monitor.commands.scan:scan_command",
    "scheduler": "ops_monitor.commands.scheduler:scheduler",
    "serve": "ops_monitor.commands.serve:serve",
    "templates": "ops_monitor.commands.templates:templates_command",
}

EXAMPLES = """\b
Examples:
  ops-monitor serve --db sqlite:///ops.db --port 8787
  ops-monitor ingest tail.json --format wrangler
  ops-monitor scan --scope full

\b
Exit status:
  0  done
  1  a scan failed, a schedule is late, the monitor behind --url failed or is unreachable, or
     every record of an ingested file was older than the retention window
  2  usage or configuration error, or a database that cannot be used (a bad URL, a missing
     directory, a server that is down, a file that is not a database, one in memory)
  3  internal error (a bug: rerun with --debug for the traceback)
  4  another scan is running
"""


def with_version(command: click.Command) -> click.Command:
    """`command` with a `--version` option (added once), and so every subcommand of a group."""
    if not any(param.name == "version" for param in command.params):
        click.version_option(package_name="readiness-toolkit", prog_name="ops-monitor")(command)
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            with_version(subcommand)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, each with `--version`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return with_version(command)


@click.group(cls=LazyGroup, epilog=EXAMPLES)
@click.version_option(package_name="readiness-toolkit", prog_name="ops-monitor")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """The ops monitoring service: ingest logs, file issues, scan on a schedule."""


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
    except Exception as error:
        if debug:
            traceback.print_exc()
        click.echo(f"ops-monitor: internal error: {type(error).__name__}: {error}", err=True)
        return 3
    return result if isinstance(result, int) else 0
