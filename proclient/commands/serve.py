"""`proclient serve`: the DMP service for several workstations (HTTPS, SQLite or PostgreSQL).

Settings: the [server] table of config.toml (see proclient/server/serving.py), overridden by
the options below. ``--init-demo`` makes the demo CA, professionals and a TLS certificate,
says where, seeds the demo INSi register and DMPs, and serves with them; ``--insi-register
FILE.json`` loads the operator's INSi identities (server/register.py) before serving;
``--openapi`` writes the OpenAPI document and stops; ``--rotate-signing-key`` gives the
service a new document-signing key (server/signing_key.py) and stops (restart the service).
``proclient serve audit verify|export``: the audit journal (commands/serve_audit.py).
``--workers N`` (N > 1) serves with N processes on one socket under a supervisor: this
process checks the settings, migrates the schema and makes the demo material (with
``--init-demo``) once, then spawns the workers (processes.serve_workers).
``[server] metrics_port``: Prometheus metrics on a port of their own (server/metrics.py);
``log_format = "json"``: the console log as one JSON object per line (server/logformat.py).
"""

from __future__ import annotations

from proclient.core.i18n import _

NAME = "serve"
HELP = _("démarre le service DMP partagé entre plusieurs postes (HTTPS)")


def configure(parser) -> None:
    parser.add_argument("--host", help=_("adresse d'écoute (défaut : 127.0.0.1)"))
    parser.add_argument("--port", type=int, help=_("port d'écoute (défaut : 8443)"))
    parser.add_argument(
        "--database",
        metavar="URL",
        help=_("base : chemin SQLite, sqlite:///chemin ou postgresql://…"),
    )
    parser.add_argument("--cert", dest="certificate", help=_("certificat TLS du service (PEM)"))
    parser.add_argument("--key", help=_("clé privée TLS du service (PEM)"))
    parser.add_argument(
        "--trusted-ca",
        dest="trusted_ca",
        help=_("autorité(s) des certificats des professionnels (PEM)"),
    )
    parser.add_argument(
        "--mode",
        choices=("test", "production"),
        help=_("test : INS de test seulement ; production : INS réels seulement"),
    )
    parser.add_argument(
        "--plain-http",
        action="store_true",
        help=_("sans HTTPS, seulement sur 127.0.0.1 (derrière un relais TLS)"),
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=_("nombre de processus de service sur la même adresse (défaut : 1)"),
    )
    parser.add_argument(
        "--init-demo",
        action="store_true",
        help=_(
            "crée l'autorité, le certificat du service et les professionnels "
            "de démonstration, puis démarre avec eux"
        ),
    )
    parser.add_argument(
        "--insi-register",
        dest="insi_register",
        metavar="FICHIER",
        help=_(
            "charge dans le registre INSi du service les identités de ce fichier JSON "
            "(une liste d'identités comme l'INSi les renvoie) avant de démarrer"
        ),
    )
    parser.add_argument(
        "--rotate-signing-key",
        dest="rotate_signing_key",
        action="store_true",
        help=_(
            "remplace la clé de signature des accusés (l'ancien certificat reste pour vérifier "
            "les accusés déjà signés) et s'arrête ; redémarrez ensuite le service"
        ),
    )
    parser.add_argument(
        "--openapi",
        metavar="FICHIER",
        nargs="?",
        const="-",
        help=_("écrit le document OpenAPI (- : sortie standard) et s'arrête"),
    )
    from proclient.commands import serve_audit

    serve_audit.configure(parser)


def run(args, settings) -> int:
    import sys
    from pathlib import Path

    from proclient.commands import EXIT_ERROR, EXIT_OK
    from proclient.server import processes, serving

    if getattr(args, "serve_command", None) == "audit":
        from proclient.commands import serve_audit

        return serve_audit.run(args, settings)
    if args.openapi is not None:
        from proclient.server.app import openapi_json

        text = openapi_json()
        if args.openapi == "-":
            sys.stdout.write(text)
        else:
            Path(args.openapi).write_text(text, encoding="utf-8")
        return EXIT_OK

    config = serving.load_serve_config(
        settings.paths,
        host=args.host,
        port=args.port,
        database=args.database,
        certificate=args.certificate,
        key=args.key,
        trusted_ca=args.trusted_ca,
        mode=args.mode,
        plain_http=args.plain_http or None,
        workers=args.workers,
    )
    if args.init_demo:
        material = serving.init_demo(settings.paths, config.host)
        config = serving.with_demo(config, material)
        print(serving.describe_demo(material, config), flush=True)
    if args.rotate_signing_key:
        signer = serving.rotate_signer(config)
        print(serving.describe_signer(config, signer), flush=True)
        return EXIT_OK
    serving.check(config)
    serving.console_logging(with_pid=config.workers > 1, log_format=config.log_format)
    app = serving.build_app(config)
    print(serving.describe_signer(config, app.state.settings.document_signer), flush=True)
    if args.init_demo:
        from proclient.server.demo import seed_demo_dmps

        seed_demo_dmps(config.database, pseudonym_secret=app.state.settings.pseudonym_secret)
    if args.insi_register:
        try:
            count = serving.load_insi_register(app, Path(args.insi_register), config.mode)
        except BaseException:
            app.state.storage.close()
            raise
        print(_("Registre INSi : {count} identité(s) chargée(s).", count=count), flush=True)
    database = app.state.storage.db.describe()
    banner = _(
        "Service DMP ({mode}) sur {scheme}://{host}:{port} — base {database}",
        mode=config.mode,
        scheme=config.scheme,
        host=config.host,
        port=config.port,
        database=database,
    )
    if config.workers > 1:
        banner += _(" — {count} processus", count=config.workers)
    print(banner, flush=True)
    if config.workers > 1:
        # Each worker builds its own app: this one only checked the settings and the schema.
        app.state.storage.close()
        if processes.serve_workers(config):
            return EXIT_OK
        print(
            _(
                "Le service n'a pas pu démarrer ses processus : la raison est dans le journal "
                "ci-dessus."
            ),
            file=sys.stderr,
        )
        return EXIT_ERROR
    server = serving.uvicorn_server(config, app)
    try:
        metrics = processes.start_metrics(config)  # metrics_port: on their own port
    except BaseException:
        app.state.storage.close()
        raise
    with metrics:
        server.run()
    return EXIT_OK if server.started else EXIT_ERROR
