"""One module per `mlp` subcommand; each exposes `register(subparsers)`."""
