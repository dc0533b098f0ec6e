"""Commands other distributions add to ``crosslane``, found by entry point.

The devnet (crosslane-devnet, a dev-only distribution) contributes ``dev``, ``devnet`` and
``demo`` this way, so the product never imports it. Where it is not installed those names
still answer, with what they are and how to get them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from crosslane.cli.errors import err, fail

PLUGIN_GROUP = "crosslane.cli_plugins"
DEVNET_COMMANDS = {
    "dev": "the embedded stack on the local devnet: up, down, status",
    "devnet": "the local sandbox chains alone",
    "demo": "the showcase on the local devnet",
}
DEVNET_INSTALL = (
    "comes with the devnet, a dev-only component not installed here: "
    "from a checkout, `pip install -e ./devnet` (scripts/setup does)"
)


def _names(app: typer.Typer) -> set[str]:
    groups = {g.name for g in app.registered_groups}
    commands = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    return {n for n in groups | commands if n}


def _add_missing(app: typer.Typer, name: str, what: str) -> None:
    """``crosslane <name> ...`` (any arguments, even --help) says it is not installed and how to get it."""

    def command(ctx: typer.Context) -> None:
        raise fail(f"`crosslane {name}` ({what}) {DEVNET_INSTALL}", 2)

    settings = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
    app.command(name, help=f"Not installed: {what} (dev-only, crosslane-devnet).", context_settings=settings)(command)


def load_plugins(app: typer.Typer) -> None:
    """Let each installed plugin add its commands; a broken one is reported, not fatal."""
    for plugin in entry_points(group=PLUGIN_GROUP):
        try:
            plugin.load()(app)
        except Exception as exc:  # noqa: BLE001 - the product's own commands must still work
            err.print(f"[yellow]warning:[/] CLI plugin {plugin.name} ({plugin.value}) not loaded: {exc}")
    present = _names(app)
    for name, what in DEVNET_COMMANDS.items():
        if name not in present:
            _add_missing(app, name, what)
