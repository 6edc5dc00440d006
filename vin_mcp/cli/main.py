"""``vin-mcp``: serve MCP over stdio (default) or streamable HTTP, or answer one VIN on the command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from vin_mcp import __version__
from vin_mcp.answers.limits import DEFAULT_BUILD_CODES_LIMIT, MAX_BUILD_CODES_LIMIT
from vin_mcp.autograb.lookup_request import LookupRequest
from vin_mcp.cli.exit_codes import EXIT_CODES_HELP, ExitCode
from vin_mcp.errors import ConfigurationError, VinMcpError
from vin_mcp.redaction import Redactor, install_log_redaction
from vin_mcp.settings import LOG_LEVELS, REGIONS, EnvSettings, Settings
from vin_mcp.vin.identifiers import search_for

if TYPE_CHECKING:
    from vin_mcp.service import VinService

logger = logging.getLogger("vin_mcp")

MODES = """\
Identify vehicles from VINs (AutoGrab v2, plus an offline VIN decode).

modes:
  vin-mcp                          MCP server over stdio (what desktop and IDE clients start)
  vin-mcp --transport http         MCP server over streamable HTTP for shared desks
  vin-mcp lookup VIN               print the answer the assistant would get
  vin-mcp plate PLATE --state VIC  the same for a registration plate (AU needs its state)
  vin-mcp build-data VIN           print factory build data
  vin-mcp decode VIN               what the VIN itself says (never asks AutoGrab, nothing billed)
  vin-mcp batch IN.csv -o OUT.csv  look up every row of a spreadsheet (VINs, or plates with states)
"""


def _settings_help() -> str:
    """The environment variables, listed from the settings' own fields."""
    from vin_mcp.mcp_server.http_settings import HttpSettings

    sections: list[tuple[str, type[EnvSettings]]] = [
        ("settings (environment)", Settings),
        ("HTTP settings (environment; options win)", HttpSettings),
    ]
    lines: list[str] = []
    for title, model in sections:
        lines.append(f"{title}:")
        lines.extend(f"  {name:<30} {description}" for name, description in model.variables())
    return "\n".join(lines)


def build_parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        """With --json, argparse's own errors are a JSON object too (subcommands' parsers share the class)."""

        def error(self, message: str) -> NoReturn:
            if json_errors:
                _refuse(f"{message} (see vin-mcp --help)", as_json=True)
            super().error(message)

    class TopParser(Parser):
        def format_help(self) -> str:
            # The variables are listed from the settings models, built only when help is asked for.
            self.epilog = _settings_help()
            return super().format_help()

    parser = TopParser(prog="vin-mcp", description=MODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"vin-mcp {__version__}")
    parser.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, help="default: VIN_MCP_LOG_LEVEL or WARNING")
    serving = parser.add_argument_group("serving")
    serving.add_argument(
        "--transport", choices=["stdio", "http"], default=None, help="default: VIN_MCP_TRANSPORT or stdio"
    )
    serving.add_argument("--host", help="HTTP address to bind (default 127.0.0.1)")
    serving.add_argument("--port", type=int, help="HTTP port (default 8000; 0 picks a free one)")
    serving.add_argument("--path", help="HTTP endpoint path (default /mcp)")
    serving.add_argument(
        "--stateless", action="store_true", default=None, help="no sessions, JSON responses: for replicas"
    )

    # What every one-vehicle command takes.
    one = Parser(add_help=False)
    one.add_argument(
        "--region", type=str.lower, choices=REGIONS, help="any letter case; default: AUTOGRAB_REGION or au"
    )
    one.add_argument("--json", action="store_true", help="print the structured answer instead of the text")
    # Also accepted after the command; SUPPRESS keeps a value given before it.
    one.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, default=argparse.SUPPRESS)
    lookups = Parser(add_help=False)
    lookups.add_argument("--extended", action="store_true", help="include the registration authority's record")
    lookups.add_argument("--candidates", action="store_true", help="list candidate vehicles when ambiguous")

    commands = parser.add_subparsers(
        dest="command", metavar="{lookup,plate,build-data,decode,batch}", parser_class=Parser
    )

    def command(name: str, summary: str, tool: str, what: str, *parents: Parser) -> Any:
        made = commands.add_parser(
            name,
            parents=[one, *parents],
            help=summary,
            description=f"Print the {tool} answer for a {what}.",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        made.add_argument("vin" if what == "VIN" else "plate")
        return made

    command("lookup", "look up a VIN", "lookup_vin", "VIN", lookups)
    plate = command("plate", "look up a registration plate", "lookup_registration", "registration plate", lookups)
    plate.add_argument("--state", help="AU only: ACT, NSW, NT, QLD, SA, TAS, VIC or WA (any letter case)")

    command("decode", "decode a VIN offline (never billed)", "offline decode", "VIN")
    batch = commands.add_parser(
        "batch",
        help="look up every row of a CSV file",
        description="Look up every row of a CSV file (VINs, or plates with states); each distinct vehicle is "
        "paid for once, and a re-run with the same output resumes.",
        epilog="exit codes: 0 every row answered; 2 bad arguments or input; 4 some rows failed (see their error "
        "column); 130 interrupted (run again with the same output to resume)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("input", help="CSV file with a header row, or - for standard input")
    batch.add_argument("-o", "--output", required=True, help="CSV file to write (resumed if it exists), or -")
    batch.add_argument("--json", action="store_true", help="write JSON Lines instead of CSV")
    batch.add_argument("--region", type=str.lower, choices=REGIONS, help="default: AUTOGRAB_REGION or au")
    batch.add_argument("--vin-column", help="the VIN column (default: found by its header)")
    batch.add_argument("--plate-column", help="the plate column (default: found by its header)")
    batch.add_argument("--state-column", help="the AU state column (default: found by its header)")
    batch.add_argument("--reference-id", help="usage tag stored by AutoGrab with every lookup of this run")
    batch.add_argument("--reference-column", help="a column whose value is each row's usage tag")
    batch.add_argument("--candidates", action="store_true", help="list candidate vehicles when ambiguous")
    # Lookups in flight at once: the client's pacing keeps them within AutoGrab's per-second limit.
    batch.add_argument("--concurrency", type=int, default=4, choices=range(1, 17), metavar="1-16")
    batch.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, default=argparse.SUPPRESS)
    build = command("build-data", "factory build data for a VIN", "get_factory_build_data", "VIN")
    build.add_argument("--search", help="only codes whose code or description contains this text")
    build.add_argument("--limit", type=int, default=DEFAULT_BUILD_CODES_LIMIT, help=f"1-{MAX_BUILD_CODES_LIMIT}")
    build.add_argument("--offset", type=int, default=0)
    return parser


# Libraries that log each request or connection at INFO: quiet unless DEBUG is asked for.
THIRD_PARTY_LOGGERS = ("httpx", "httpcore", "mcp", "sse_starlette", "uvicorn.access", "asyncio")
TTY_NOTICE = (
    "vin-mcp: this is an MCP server; it now waits for an MCP client on stdin and stdout (Ctrl-C stops it).\n"
    "To look up a VIN by hand: vin-mcp lookup VIN (vin-mcp --help for more)."
)


def main(argv: Sequence[str] | None = None) -> None:
    wants_json = "--json" in (sys.argv[1:] if argv is None else argv)
    args = build_parser(json_errors=wants_json).parse_args(argv)
    try:
        _main(args)
    except KeyboardInterrupt:
        # Ctrl-C in a terminal: a quiet exit, with the shell's status for SIGINT.
        print(file=sys.stderr)
        raise SystemExit(130) from None


def _main(args: argparse.Namespace) -> None:
    level = args.log_level or _env_log_level()
    configure_logging(level)
    serving = args.command is None
    unusable: ConfigurationError | None = None
    # Redacts whatever the environment holds in a secret's variable, even when the settings cannot be read.
    install_log_redaction(Redactor(Settings.environment_secrets()))
    try:
        # A flag overrides its setting, so a bad value under a flag's setting is never read.
        settings = Settings.from_env(
            log_level=args.log_level, transport=args.transport, region=getattr(args, "region", None)
        )
    except ConfigurationError as exc:
        if not serving:
            _refuse(str(exc), as_json=args.json)
        if _transport(args) != "stdio":
            print(f"vin-mcp: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        # A desktop host shows only "Connection closed" when a server exits: start anyway, and let every
        # tool call answer with the line that names the variable and the fix, for the assistant to relay.
        logger.error("%s", exc)
        settings, unusable = Settings.model_construct(), exc  # the defaults, without reading the environment again
    # Every record from every library passes the root handler, where the key is removed.
    install_log_redaction(Redactor([*settings.secrets(), *Settings.environment_secrets()]))
    if serving:
        try:
            _serve(args, settings, unusable)
        except ConfigurationError as exc:
            print(f"vin-mcp: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        return

    from vin_mcp.cli.commands import run_build_data, run_decode, run_lookup  # only the commands need the printers

    if args.command == "batch":
        from vin_mcp.cli.batch import run_batch

        try:
            raise SystemExit(int(run_batch(settings, args)))
        except (VinMcpError, OSError) as error:
            _refuse(str(error), as_json=False)
    if args.command == "decode":
        raise SystemExit(int(run_decode(settings, args.vin, region=args.region, as_json=args.json)))

    if args.command in ("lookup", "plate"):

        def request(service: VinService) -> LookupRequest:
            region = service.region(args.region)
            search = search_for(
                vin=getattr(args, "vin", None),
                plate=getattr(args, "plate", None),
                state=getattr(args, "state", None),
                region=region,
            )
            return LookupRequest(
                search=search, region=region, include_extended_data=args.extended, prefer_more_results=args.candidates
            )

        code = run_lookup(settings, request, as_json=args.json)
    else:
        code = run_build_data(
            settings,
            args.vin,
            region=args.region,
            search=args.search,
            limit=args.limit,
            offset=args.offset,
            as_json=args.json,
        )
    raise SystemExit(int(code))


def _refuse(message: str, *, as_json: bool) -> NoReturn:
    """A command that cannot run (a setting or an argument): one line, and the JSON object with --json."""
    from vin_mcp.cli.commands import report_error
    from vin_mcp.cli.wording import for_people

    report_error(None, "UsageError", for_people(message), ExitCode.USAGE, as_json=as_json)
    raise SystemExit(int(ExitCode.USAGE))


def configure_logging(level: str) -> None:
    # stdout belongs to the MCP protocol (and to the answer in command mode): logs go to stderr.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def _env_log_level() -> str:
    """VIN_MCP_LOG_LEVEL before the settings are read (a bad value falls back here and is reported there)."""
    value = os.environ.get("VIN_MCP_LOG_LEVEL", "").strip().upper()
    return value if value in LOG_LEVELS else "WARNING"


def _transport(args: argparse.Namespace) -> str:
    """The transport asked for, read even when the settings cannot be (then an unknown one is refused)."""
    return args.transport or os.environ.get("VIN_MCP_TRANSPORT", "").strip().lower() or "stdio"


def _leave_on_ctrl_c(_signal: int, _frame: object) -> None:
    sys.stderr.flush()
    os._exit(130)


def _serve(args: argparse.Namespace, settings: Settings, unusable: ConfigurationError | None) -> None:
    # Read settings (or, when they could not be read, the defaults of a stdio start) name the transport.
    if (args.transport or settings.transport) == "stdio":
        from vin_mcp.mcp_server.server import create_server  # deferred: the SDK import is most of the start-up time

        if sys.stdin.isatty():
            print(TTY_NOTICE, file=sys.stderr)
            # The SDK reads stdin in a worker thread that a cancellation cannot stop, so Ctrl-C would wait for a
            # line that never comes. In a terminal there is no client whose answer could be lost: leave now.
            signal.signal(signal.SIGINT, _leave_on_ctrl_c)
        from vin_mcp.mcp_server.stdio_transport import serve_stdio

        serve_stdio(create_server(settings, unusable), settings.shutdown_seconds)
    else:
        from vin_mcp.mcp_server.http_settings import HttpSettings
        from vin_mcp.mcp_server.http_transport import serve_http

        http = HttpSettings.from_env(host=args.host, port=args.port, path=args.path, stateless=args.stateless)
        serve_http(settings, http, settings.log_level)
