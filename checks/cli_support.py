"""The command-line conventions every `readiness` command follows.

One-line errors on stderr that name the file, line or field; exit 2 for usage and configuration
errors; no traceback unless `--debug` (or `READINESS_DEBUG=1`); exit 3 for a bug of ours.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Sequence

import click

EXIT_USAGE = 2
EXIT_INTERNAL = 3


class UserError(Exception):
    """A problem the user can fix: bad input, bad configuration. Printed as one line, exit 2."""

    exit_code = EXIT_USAGE


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if code >= 0xDC80 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` that any UTF-8 stream accepts: a file name that is not UTF-8 reaches us with its
    bytes as lone surrogates (PEP 383), which are shown as `\\xNN` instead of crashing the write."""
    if text.isascii():
        return text
    return _SURROGATE.sub(_escape_surrogate, text)


def _one_line(text: str) -> str:
    return printable(" ".join(text.split()))


def run(command: click.Command, argv: Sequence[str] | None, prog_name: str) -> int:
    """Invoke a click command with our error conventions and return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("READINESS_DEBUG") == "1"
    try:
        result = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.Abort:
        click.echo(f"{prog_name}: interrupted", err=True)
        return 130
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"{prog_name}: error: {_one_line(error.format_message())}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"{prog_name}: error: {_one_line(error.format_message())}", err=True)
        return error.exit_code
    except UserError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"{prog_name}: error: {_one_line(str(error))}", err=True)
        return error.exit_code
    except Exception as error:  # a bug of ours: say so briefly, show the trace on request
        if debug:
            traceback.print_exc()
        click.echo(
            f"{prog_name}: internal error: {type(error).__name__}: {_one_line(str(error))}"
            " (rerun with --debug for the traceback)",
            err=True,
        )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0
